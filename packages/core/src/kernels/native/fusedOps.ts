import { TesseraError } from '@tessera/base';
import { matMul } from '../../ops/matMul.js';
import { tf } from '../../tf.js';
import { LINEAR_ACTIVATIONS, type LinearActivation } from './fusedKernels.js';
import { activeNativeAddon } from './nativeKernels.js';

/**
 * Layer norm, GELU, linear layers and softmax cross-entropy as single fused kernels (forward and backward) when @tessera/native is
 * active on wasm, and as the same math in plain tfjs ops everywhere else. Same values and
 * gradients either way (within float rounding); ~10 kernels become one in each direction.
 */

function fused(): boolean {
  return activeNativeAddon() !== null && tf.getBackend() === 'wasm';
}

/** Whether gradients are being recorded; without, a fused op runs its kernel directly (no customGrad scope, nothing saved). */
function recording(): boolean {
  return tf.engine().isTapeOn();
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
  if (!recording()) {
    const [y, mean, rstd] = tf.engine().runKernel('TesseraLayerNorm', { x, gamma, beta }, { eps }) as tf.Tensor[];
    tf.dispose([mean, rstd]);
    return y as tf.Tensor;
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
  if (!recording()) return tf.engine().runKernel('TesseraGelu', { x }, { approximate }) as tf.Tensor;
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

/**
 * A linear layer and its activation, y = act(x W^T + b) over the last axis of x (F.linear, then
 * the activation), for weight [out, in] and bias [out] or null. With @tessera/native one kernel
 * each way: the bias and activation are applied to each output row while it is in cache, and
 * one backward call gives dx, dW and db. Elsewhere matMul, add and the activation in tfjs ops.
 */
export function fusedLinear(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor | null, activation: LinearActivation = 'linear'): tf.Tensor {
  const [outFeatures, inFeatures] = weight.shape as [number, number];
  if (
    weight.rank !== 2 ||
    x.rank < 1 ||
    x.shape[x.rank - 1] !== inFeatures ||
    (bias !== null && bias.shape.join() !== `${outFeatures}`) ||
    !LINEAR_ACTIVATIONS.includes(activation)
  ) {
    throw new TesseraError(
      'E_INPUT',
      `fusedLinear: x [..., in] with weight [out, in] and bias [out] (got x [${x.shape.join(', ')}], weight [${weight.shape.join(', ')}], bias [${bias?.shape.join(', ') ?? 'none'}]); activation one of ${LINEAR_ACTIVATIONS.join(', ')} (got ${activation})`,
    );
  }
  const rows = x.size / inFeatures;
  const dtypes = [x, weight, ...(bias ? [bias] : [])].every((t) => t.dtype === 'float32');
  if (!fused() || !dtypes || rows === 0 || inFeatures === 0 || outFeatures === 0) {
    return tf.tidy(() => {
      const z = matMul(x, weight, false, true);
      const y = bias ? tf.add(z, bias) : z;
      if (activation === 'gelu' || activation === 'gelu_tanh') return fusedGelu(y, activation === 'gelu_tanh');
      if (activation === 'quick_gelu') return tf.mul(y, tf.sigmoid(tf.mul(y, 1.702)));
      return activation === 'relu' ? tf.relu(y) : y;
    });
  }
  const hasBias = bias !== null;
  // The kernels take x of any rank ([..., in] -> [..., out]): no reshapes around them.
  if (!recording()) {
    const [y, z] = tf
      .engine()
      .runKernel('TesseraLinear', (bias ? { x, weight, bias } : { x, weight }) as never, { activation }) as tf.Tensor[];
    if (z) z.dispose();
    return y as tf.Tensor;
  }
  const op = tf.customGrad(((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args.pop() as tf.GradSaveFunc;
    const [xv, w, b] = args as tf.Tensor[];
    const inputs = b ? { x: xv, weight: w, bias: b } : { x: xv, weight: w };
    const [y, z] = tf.engine().runKernel('TesseraLinear', inputs as never, { activation }) as tf.Tensor[];
    save(z ? [xv as tf.Tensor, w as tf.Tensor, z] : [xv as tf.Tensor, w as tf.Tensor]);
    return {
      value: y as tf.Tensor,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sw, sz] = saved;
        const gradInputs = sz ? { dy, x: sx, weight: sw, z: sz } : { dy, x: sx, weight: sw };
        return tf.engine().runKernel('TesseraLinearGrad', gradInputs as never, { activation, hasBias }) as tf.Tensor[];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return tf.tidy(() => (bias ? op(x, weight, bias) : op(x, weight)) as tf.Tensor);
}

/** Masks of `fusedAttention`; masked scores get -1e9 added before the softmax. */
export interface FusedAttentionOptions {
  /** [B, Sk] 1 = key, 0 = padding (any dtype). */
  keyPaddingMask?: tf.Tensor;
  /** Query i (of Sq) sees keys up to (Sk - Sq) + i. */
  causal?: boolean;
}

/**
 * Scaled dot-product attention of projected q [B, Sq, D] over k, v [B, Sk, D], `numHeads` heads
 * side by side in D, as one native kernel (no head transposes, scores kept in cache per head):
 * the merged context [B, Sq, D]. Inference only: null when native kernels are off or gradients
 * are being recorded, and the caller runs its own ops (MultiHeadAttention's are the reference).
 * Masked scores get -1e9 added, as `paddingBias` and `causalBias` do.
 */
export function fusedAttention(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  numHeads: number,
  options: FusedAttentionOptions = {},
): tf.Tensor | null {
  const { keyPaddingMask: mask, causal = false } = options;
  const [batch, queries, dim] = q.shape as [number, number, number];
  const keys = k.shape[1] as number;
  const same = (t: tf.Tensor, shape: number[]) => t.shape.join() === shape.join();
  if (
    q.rank !== 3 ||
    !same(k, [batch, keys, dim]) ||
    !same(v, [batch, keys, dim]) ||
    !(Number.isInteger(numHeads) && numHeads > 0 && dim % numHeads === 0) ||
    (mask && !same(mask, [batch, keys])) ||
    (causal && queries > keys)
  ) {
    throw new TesseraError(
      'E_INPUT',
      `fusedAttention: q [B, Sq, D], k and v [B, Sk, D], mask [B, Sk], D divisible by numHeads, Sq <= Sk when causal (got q [${q.shape}], k [${k.shape}], v [${v.shape}], mask [${mask?.shape ?? 'none'}], numHeads ${numHeads})`,
    );
  }
  if (!fused() || recording() || [q, k, v].some((t) => t.dtype !== 'float32')) return null;
  return tf.tidy(() => {
    const inputs = mask ? { q, k, v, mask: tf.cast(mask, 'float32') } : { q, k, v };
    return tf.engine().runKernel('TesseraAttention', inputs as never, { numHeads, causal }) as tf.Tensor;
  });
}

/** Options of `fusedSoftmaxCrossEntropy`. */
export interface CrossEntropyOptions {
  /** Weight spread uniformly over all classes, as torch's `label_smoothing` (default 0). */
  labelSmoothing?: number;
}

/**
 * Mean softmax cross-entropy of logits [..., V] against int32 class ids [...]
 * (F.cross_entropy): labels outside [0, V), such as -100, are ignored and not counted in the mean.
 */
export function fusedSoftmaxCrossEntropy(logits: tf.Tensor, labels: tf.Tensor, options: CrossEntropyOptions = {}): tf.Scalar {
  const smoothing = options.labelSmoothing ?? 0;
  const classes = logits.shape[logits.rank - 1] as number;
  if (
    logits.rank < 1 ||
    labels.dtype !== 'int32' ||
    labels.shape.join() !== logits.shape.slice(0, -1).join() ||
    !(smoothing >= 0 && smoothing <= 1)
  ) {
    throw new TesseraError(
      'E_INPUT',
      `fusedSoftmaxCrossEntropy: labels must be int32 of shape [${logits.shape.slice(0, -1).join(', ')}] for logits [${logits.shape.join(', ')}] (got ${labels.dtype} [${labels.shape.join(', ')}]), and labelSmoothing in [0, 1] (got ${smoothing})`,
    );
  }
  return tf.tidy(() => {
    const flat = tf.reshape(logits, [-1, classes]) as tf.Tensor2D;
    const ids = tf.reshape(labels, [-1]);
    if (!fused() || logits.dtype !== 'float32') {
      const valid = tf.logicalAnd(tf.greaterEqual(ids, 0), tf.less(ids, classes));
      const target = tf.add(tf.mul(tf.oneHot(tf.where(valid, ids, tf.zerosLike(ids)), classes), 1 - smoothing), smoothing / classes);
      const rowLoss = tf.mul(tf.neg(tf.sum(tf.mul(target, tf.logSoftmax(flat)), -1)), tf.cast(valid, 'float32'));
      return tf.div(tf.sum(rowLoss), tf.maximum(tf.sum(tf.cast(valid, 'float32')), 1)) as tf.Scalar;
    }
    const op = tf.customGrad(((...args: [tf.Tensor, tf.GradSaveFunc]) => {
      const [z, save] = args;
      const [loss, lse, counted] = tf.engine().runKernel('TesseraCrossEntropy', { logits: z, labels: ids }, { smoothing }) as tf.Tensor[];
      save([z, lse as tf.Tensor, counted as tf.Tensor, ids]); // ids too: the tidy disposes its own copy
      return {
        value: loss as tf.Tensor,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [sz, slse, scount, sids] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
          return tf
            .engine()
            .runKernel('TesseraCrossEntropyGrad', { dy, logits: sz, labels: sids, lse: slse, counted: scount }, { smoothing }) as tf.Tensor;
        },
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0]);
    return op(flat) as tf.Scalar;
  });
}
