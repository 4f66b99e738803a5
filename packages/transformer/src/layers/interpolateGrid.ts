import { tf } from '@tessera/core';

/** Cubic convolution kernel with a = -0.75, as PyTorch's bicubic upsampling. */
function cubicWeights(t: number): [number, number, number, number] {
  const a = -0.75;
  const near = (x: number) => ((a + 2) * x - (a + 3)) * x * x + 1;
  const far = (x: number) => ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return [far(t + 1), near(t), near(1 - t), far(2 - t)];
}

/**
 * The `[outSize, inSize]` matrix of 1-D bicubic resampling with `align_corners=False`, as
 * `torch.nn.functional.interpolate(mode='bicubic', size=...)`: source coordinate
 * `(i + 0.5) * in/out - 0.5`, taps clamped at the borders. Bicubic 2-D is separable, so
 * `A_h @ X @ A_w^T` resamples a grid and stays differentiable.
 */
export function bicubicMatrix(inSize: number, outSize: number): Float32Array {
  const m = new Float32Array(outSize * inSize);
  const scale = inSize / outSize;
  for (let i = 0; i < outSize; i++) {
    const real = (i + 0.5) * scale - 0.5;
    const base = Math.floor(real);
    const w = cubicWeights(real - base);
    for (let k = 0; k < 4; k++) {
      const src = Math.min(Math.max(base - 1 + k, 0), inSize - 1);
      m[i * inSize + src] += w[k] as number;
    }
  }
  return m;
}

/**
 * Resamples grid embeddings `[1, gh*gw, dim]` (row-major grid) to `[1, nh*nw, dim]` with
 * PyTorch-compatible bicubic interpolation (what Hugging Face ViT's `interpolate_pos_encoding`
 * does). Differentiable with respect to `grid`.
 */
export function interpolateGrid(grid: tf.Tensor3D, from: [number, number], to: [number, number]): tf.Tensor3D {
  const [gh, gw] = from;
  const [nh, nw] = to;
  const dim = grid.shape[2];
  return tf.tidy(() => {
    const ah = tf.tensor2d(bicubicMatrix(gh, nh), [nh, gh]);
    const awT = tf.transpose(tf.tensor2d(bicubicMatrix(gw, nw), [nw, gw]));
    // [gh, gw, dim] -> per channel [dim, gh, gw]: X_c' = A_h X_c A_w^T, done as two 2-D products.
    const channels = tf.transpose(tf.reshape(grid, [gh, gw, dim]), [2, 0, 1]);
    const alongW = tf.reshape(tf.matMul(tf.reshape(channels, [dim * gh, gw]), awT), [dim, gh, nw]);
    const alongH = tf.matMul(ah, tf.reshape(tf.transpose(alongW, [1, 0, 2]), [gh, dim * nw]));
    const back = tf.transpose(tf.reshape(alongH, [nh, dim, nw]), [0, 2, 1]);
    return tf.reshape(back, [1, nh * nw, dim]);
  });
}
