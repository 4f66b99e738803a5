import { matMul, TesseraError, tf } from '@tessera/core';

/**
 * Identity in the forward pass, zero gradient backwards (torch's `.detach()`): used for
 * targets built from a frozen teacher or a momentum encoder, which must not be trained
 * through the loss.
 */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  const op = tf.customGrad(((...args: [tf.Tensor, tf.GradSaveFunc]) => {
    const [input] = args;
    return { value: tf.clone(input), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x) as T;
}

/**
 * Rows divided by their L2 norm, as torch's `F.normalize(x, dim=-1)` (norm floored at 1e-12).
 * Written as sqrt of a sum of squares: tf.norm's gradient is about twice as slow on wasm.
 */
export function l2Normalize<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => tf.div(x, tf.sqrt(tf.maximum(tf.sum(tf.square(x), -1, true), 1e-24))) as T);
}

/**
 * a @ b^T for 2-D a [N, D], b [M, D]. The transpose is explicit: tfjs's wasm MatMul with
 * transpose flags misses its fast path, so a transposed matMul's gradient is ~4x slower than
 * plain products (see @tessera/core's kernels/batchMatMul.ts).
 */
export function matMulTransposed(a: tf.Tensor, b: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => matMul(a, tf.transpose(b)) as tf.Tensor2D);
}

/** Throws E_INPUT unless `t` has the given rank. */
export function expectRank(t: tf.Tensor, rank: number, what: string): void {
  if (t.rank !== rank) {
    throw new TesseraError('E_INPUT', `${what} must have rank ${rank}, got shape [${t.shape.join(', ')}]`);
  }
}

/** Throws E_INPUT unless two tensors have the same shape. */
export function expectSameShape(a: tf.Tensor, b: tf.Tensor, what: string): void {
  if (a.shape.join() !== b.shape.join()) {
    throw new TesseraError('E_INPUT', `${what}: shapes differ, [${a.shape.join(', ')}] vs [${b.shape.join(', ')}]`);
  }
}
