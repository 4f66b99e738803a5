import { TesseraError } from '../../errors.js';
import { tf } from '../../tf.js';
import { activeNativeAddon } from './nativeKernels.js';

/**
 * Layer norm and GELU as single fused kernels (forward and backward) when @tessera/native is
 * active on wasm, and as the same math in plain tfjs ops everywhere else. Same values and
 * gradients either way (within float rounding); ~10 kernels become one in each direction.
 */

function fused(): boolean {
  return activeNativeAddon() !== null && tf.getBackend() === 'wasm';
}

/** y = (x - mean) / sqrt(var + eps) * gamma + beta over the last axis (torch.nn.LayerNorm). */
export function fusedLayerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps = 1e-5): tf.Tensor {
  const cols = x.shape[x.rank - 1];
  if (x.rank === 0 || gamma.shape.join() !== `${cols}` || beta.shape.join() !== `${cols}`) {
    throw new TesseraError(
      'E_INPUT',
      `layerNorm: gamma and beta must have shape [${cols ?? '?'}] (the last axis of x [${x.shape.join(', ')}]); got [${gamma.shape.join(', ')}] and [${beta.shape.join(', ')}]`,
    );
  }
  if (!fused() || x.dtype !== 'float32') {
    return tf.tidy(() => {
      const centered = tf.sub(x, tf.mean(x, -1, true));
      const normalized = tf.mul(centered, tf.rsqrt(tf.add(tf.mean(tf.square(centered), -1, true), eps)));
      return tf.add(tf.mul(normalized, gamma), beta);
    });
  }
  const op = tf.customGrad(((...args: [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc]) => {
    const [xv, g, b, save] = args;
    const [y, mean, rstd] = tf.engine().runKernel('TesseraLayerNorm', { x: xv, gamma: g, beta: b }, { eps }) as tf.Tensor[];
    save([xv, g, mean as tf.Tensor, rstd as tf.Tensor]);
    return {
      value: y as tf.Tensor,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sg, sm, sr] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
        return tf.engine().runKernel('TesseraLayerNormGrad', { dy, x: sx, gamma: sg, mean: sm, rstd: sr }, {}) as tf.Tensor[];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return tf.tidy(() => op(x, gamma, beta));
}

/** GELU: exact x * Phi(x), or the tanh approximation (F.gelu(approximate='tanh')). */
export function fusedGelu(x: tf.Tensor, approximate = false): tf.Tensor {
  if (!fused() || x.dtype !== 'float32') {
    return tf.tidy(() => {
      if (!approximate) return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
      const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI));
      return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
    });
  }
  const op = tf.customGrad(((...args: [tf.Tensor, tf.GradSaveFunc]) => {
    const [xv, save] = args;
    save([xv]);
    return {
      value: tf.engine().runKernel('TesseraGelu', { x: xv }, { approximate }) as tf.Tensor,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.engine().runKernel('TesseraGeluGrad', { dy, x: saved[0] as tf.Tensor }, { approximate }) as tf.Tensor,
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x);
}
