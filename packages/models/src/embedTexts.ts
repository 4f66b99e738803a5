import { tf } from '@tessera/core';
import type { Tokenizer } from '@tessera/tokenizer';
import { textTensors } from './textBatch.js';
import type { ContrastiveEncoder } from './zeroShot.js';

/** Text embeddings [N, D] of a contrastive model, encoded `chunk` texts at a time; the caller disposes the result. */
export function embedTexts(
  model: ContrastiveEncoder,
  tokenizer: Tokenizer,
  texts: readonly string[],
  maxLength: number,
  chunk = 512,
): tf.Tensor2D {
  const parts: tf.Tensor2D[] = [];
  for (let start = 0; start < texts.length; start += chunk) {
    const { ids, mask } = textTensors(tokenizer, texts.slice(start, start + chunk), maxLength);
    parts.push(model.encodeText(ids, mask));
    tf.dispose([ids, mask]);
  }
  if (parts.length === 1) return parts[0] as tf.Tensor2D;
  const all = tf.concat(parts, 0) as tf.Tensor2D;
  tf.dispose(parts);
  return all;
}
