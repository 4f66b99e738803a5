import { tf } from '@tessera/core';

/**
 * Scales gradients so that their global L2 norm is at most `maxNorm`, as
 * torch.nn.utils.clip_grad_norm_: coef = min(1, maxNorm / (norm + 1e-6)). Returns new tensors
 * (the caller disposes both the inputs and the outputs) and the norm before clipping.
 */
export function clipGradNorm(grads: Map<string, tf.Tensor>, maxNorm: number): { grads: Map<string, tf.Tensor>; norm: number } {
  const norm = globalNorm(grads);
  const coef = Math.min(1, maxNorm / (norm + 1e-6));
  const out = new Map<string, tf.Tensor>();
  for (const [name, g] of grads) out.set(name, tf.mul(g, coef));
  return { grads: out, norm };
}

/** The L2 norm of all gradients taken together (the norm of the per-tensor norms). */
export function globalNorm(grads: Map<string, tf.Tensor>): number {
  if (grads.size === 0) return 0;
  return tf.tidy(() => {
    const squares = [...grads.values()].map((g) => tf.sum(tf.square(g)));
    return tf.sqrt(tf.addN(squares)).dataSync()[0] as number;
  });
}
