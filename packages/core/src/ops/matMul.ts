import { tf } from '../tf.js';

/**
 * Matrix product with numpy broadcasting of batch dimensions, and gradients for it.
 * tfjs's own matMul gets both wrong when batch dimensions differ: its gradient fails for
 * activations [B, S, D] times a weight [D, E], and when both operands broadcast
 * ([2,1] x [1,3]) its kernels pair batch items by flat index. So:
 * - a shared 2-D right operand is folded into one 2-D product (the linear-layer case, and
 *   the fastest on every backend);
 * - otherwise both operands are broadcast to the common batch shape first; the gradient of
 *   `broadcastTo` sums back over the broadcast axes.
 */
export function matMul(a: tf.Tensor, b: tf.Tensor, transposeA = false, transposeB = false): tf.Tensor {
  if (a.rank > 2 && b.rank === 2 && !transposeA) {
    const k = a.shape[a.rank - 1] as number;
    const lead = a.shape.slice(0, -1);
    return tf.tidy(() => {
      const product = tf.matMul(tf.reshape(a, [-1, k]), b, false, transposeB);
      return tf.reshape(product, [...lead, product.shape[1] as number]);
    });
  }
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  if (batchA.join() === batchB.join()) return tf.matMul(a, b, transposeA, transposeB);
  const batch = broadcastShape(batchA, batchB);
  return tf.tidy(() => {
    const x = batchA.join() === batch.join() ? a : tf.broadcastTo(a, [...batch, ...a.shape.slice(-2)]);
    const y = batchB.join() === batch.join() ? b : tf.broadcastTo(b, [...batch, ...b.shape.slice(-2)]);
    return tf.matMul(x, y, transposeA, transposeB);
  });
}

function broadcastShape(a: number[], b: number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new RangeError(`matMul: batch dimensions [${a}] and [${b}] do not broadcast`);
    out.push(Math.max(da, db));
  }
  return out;
}
