import { tf } from '../tf.js';

/**
 * Matrix product with numpy broadcasting of batch dimensions, and gradients for it.
 * tfjs's own matMul gradient fails when batch dimensions broadcast (e.g. activations
 * [B, S, D] times a weight [D, E]), so:
 * - a shared 2-D right operand is folded into one 2-D product (the linear-layer case);
 * - other broadcasts use a custom gradient that sums over the broadcast axes.
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
  const batchA = a.shape.slice(0, -2).join();
  const batchB = b.shape.slice(0, -2).join();
  if (a.rank === b.rank && batchA === batchB) return tf.matMul(a, b, transposeA, transposeB);
  return broadcastMatMul(a, b, transposeA, transposeB);
}

function broadcastMatMul(a: tf.Tensor, b: tf.Tensor, transposeA: boolean, transposeB: boolean): tf.Tensor {
  const op = tf.customGrad(((...args: [tf.Tensor, tf.Tensor, tf.GradSaveFunc]) => {
    const [x, y, save] = args;
    save([x, y]);
    return {
      value: tf.matMul(x, y, transposeA, transposeB),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sy] = saved as [tf.Tensor, tf.Tensor];
        const dx = transposeA ? tf.matMul(sy, dy, transposeB, true) : tf.matMul(dy, sy, false, !transposeB);
        const dyB = transposeB ? tf.matMul(dy, sx, true, transposeA) : tf.matMul(sx, dy, !transposeA, false);
        return [sumToShape(dx, sx.shape), sumToShape(dyB, sy.shape)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(a, b);
}

/** Sums `x` over the axes that broadcasting added or stretched, giving `shape`. */
export function sumToShape(x: tf.Tensor, shape: number[]): tf.Tensor {
  if (x.shape.join() === shape.join()) return x;
  const extra = x.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < x.rank; i++) {
    if (i < extra || (shape[i - extra] === 1 && (x.shape[i] as number) !== 1)) axes.push(i);
  }
  return tf.reshape(tf.sum(x, axes, true), shape);
}
