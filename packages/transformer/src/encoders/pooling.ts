import { matMul, TesseraError, tf } from '@tessera/core';

/** The poolings TextEncoder's `pooling` accepts (each one described at `Pooling`). */
export const POOLINGS = ['cls', 'eos', 'mean', 'argmax', 'last'] as const;
/**
 * 'cls': the first token; 'eos': the EOS token (or the last real one); 'mean': mean over real
 * tokens; 'argmax': the real token with the highest id (OpenAI CLIP, whose EOS is the last id;
 * transformers' rule when a CLIP config's eos_token_id is the legacy 2); 'last': the last
 * position whatever the mask says (SigLIP, whose texts are padded to a fixed length).
 */
export type Pooling = (typeof POOLINGS)[number];

/**
 * Pooling weights [B, S] computed on the host from the mask (and ids for 'eos'), so that
 * every pooling is one batched product weights x hidden, differentiable in the states.
 */
export function poolingWeights(
  pooling: Pooling,
  mask: Float32Array | Int32Array,
  batch: number,
  length: number,
  ids?: Int32Array | Uint8Array | Float32Array,
  eosTokenId?: number,
): Float32Array {
  const w = new Float32Array(batch * length);
  for (let b = 0; b < batch; b++) {
    let real = 0;
    for (let s = 0; s < length; s++) real += mask[b * length + s] ? 1 : 0;
    if (real === 0) throw new TesseraError('E_INPUT', `sequence ${b} has no real tokens (its mask is all zero); drop it from the batch`);
    if (pooling === 'cls') w[b * length] = 1;
    else if (pooling === 'last') w[b * length + length - 1] = 1;
    else if (pooling === 'mean') {
      for (let s = 0; s < length; s++) if (mask[b * length + s]) w[b * length + s] = 1 / real;
    } else if (pooling === 'argmax') {
      if (!ids) throw new TesseraError('E_INPUT', "pooling 'argmax' needs the token ids");
      let at = -1;
      // The first highest id, as torch.argmax picks it.
      for (let s = 0; s < length; s++)
        if (mask[b * length + s] && (at < 0 || (ids[b * length + s] as number) > (ids[b * length + at] as number))) at = s;
      w[b * length + at] = 1;
    } else {
      let at = -1;
      if (eosTokenId !== undefined && ids) {
        for (let s = 0; s < length && at < 0; s++) if (ids[b * length + s] === eosTokenId && mask[b * length + s]) at = s;
      }
      if (at < 0) for (let s = 0; s < length; s++) if (mask[b * length + s]) at = s;
      w[b * length + at] = 1;
    }
  }
  return w;
}

/** hidden [B, S, D] pooled by weights [B, S] -> [B, D]. */
export function poolHidden(hidden: tf.Tensor, weights: Float32Array): tf.Tensor {
  const [batch, length, dim] = hidden.shape as [number, number, number];
  return tf.tidy(() => tf.reshape(matMul(tf.tensor(weights, [batch, 1, length]), hidden), [batch, dim]));
}
