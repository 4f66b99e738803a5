import { TesseraError, tf } from '@tessera/core';

/**
 * Fixed 1-D sin-cos embedding of positions, as in MAE's `get_1d_sincos_pos_embed_from_grid`:
 * for each position p, `[sin(p * w_0..w_{D/2-1}), cos(p * w_0..w_{D/2-1})]` with
 * `w_i = 1 / 10000^(i / (D/2))`. Returns `positions.length * dim` values, row-major.
 */
export function sincos1d(dim: number, positions: ArrayLike<number>): Float32Array {
  if (dim % 2 !== 0) throw new TesseraError('E_CONFIG', `sin-cos position embedding needs an even dim, got ${dim}`);
  const half = dim / 2;
  const out = new Float32Array(positions.length * dim);
  for (let m = 0; m < positions.length; m++) {
    const p = positions[m] as number;
    for (let i = 0; i < half; i++) {
      const angle = p / 10000 ** (i / half);
      out[m * dim + i] = Math.sin(angle);
      out[m * dim + half + i] = Math.cos(angle);
    }
  }
  return out;
}

/**
 * Fixed 2-D sin-cos position embedding of a `gridH x gridW` patch grid, row-major, `[N * dim]`
 * values, exactly MAE's `get_2d_sincos_pos_embed` (its first half encodes the column, the
 * second half the row). `dim` must be a multiple of 4.
 */
export function sincos2d(dim: number, gridH: number, gridW: number): Float32Array {
  if (dim % 4 !== 0) throw new TesseraError('E_CONFIG', `2-D sin-cos position embedding needs dim divisible by 4, got ${dim}`);
  const n = gridH * gridW;
  const cols = Float32Array.from({ length: n }, (_, k) => k % gridW);
  const rows = Float32Array.from({ length: n }, (_, k) => Math.floor(k / gridW));
  const half = dim / 2;
  const embCols = sincos1d(half, cols);
  const embRows = sincos1d(half, rows);
  const out = new Float32Array(n * dim);
  for (let k = 0; k < n; k++) {
    out.set(embCols.subarray(k * half, (k + 1) * half), k * dim);
    out.set(embRows.subarray(k * half, (k + 1) * half), k * dim + half);
  }
  return out;
}

/**
 * A temporal position embedding for `frames` video frames, `[frames, dim]` (fixed 1-D sin-cos
 * of the frame index), to add to every patch token of a frame as in ViViT/TimeSformer-style
 * divided space-time embeddings.
 */
export function temporalPositionEmbedding(frames: number, dim: number): tf.Tensor2D {
  return tf.tensor2d(
    sincos1d(
      dim,
      Array.from({ length: frames }, (_, t) => t),
    ),
    [frames, dim],
  );
}

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
