import { TesseraError, tf } from '@tessera/core';

/** Added to the scores of masked keys: finite, so a fully masked row gives uniform weights instead of NaN. */
export const MASKED = -1e9;

/**
 * Additive bias [B, 1, 1, Sk] from a key-padding mask [B, Sk] (1 = real token, 0 = padding).
 */
export function paddingBias(mask: tf.Tensor): tf.Tensor {
  if (mask.rank !== 2) {
    throw new TesseraError(
      'E_SHAPE',
      `attention mask must be [batch, keys] with 1 for real tokens and 0 for padding, got [${mask.shape.join(', ')}]`,
    );
  }
  return tf.tidy(() => {
    const [batch, keys] = mask.shape as [number, number];
    return tf.reshape(tf.mul(tf.sub(1, tf.cast(mask, 'float32')), MASKED), [batch, 1, 1, keys]);
  });
}

/**
 * Additive causal bias [1, 1, Sq, Sk]: query i sits at absolute position `past + i` (past =
 * Sk - Sq cached keys) and sees keys 0..past+i. With `prefix` P, the first P positions also see
 * each other in full (a prefix LM, GIT's image tokens): position p sees keys 0..max(p, P - 1).
 */
export function causalBias(queries: number, keys: number, prefix = 0): tf.Tensor {
  const past = keys - queries;
  if (past < 0) throw new TesseraError('E_SHAPE', `causal attention needs at least as many keys (${keys}) as queries (${queries})`);
  const values = new Float32Array(queries * keys);
  for (let i = 0; i < queries; i++) for (let j = Math.max(past + i + 1, prefix); j < keys; j++) values[i * keys + j] = MASKED;
  return tf.tensor(values, [1, 1, queries, keys]);
}
