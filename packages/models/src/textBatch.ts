import { TesseraError, tf } from '@tessera/core';
import type { Tokenizer } from '@tessera/tokenizer';

/** Token ids and attention mask of several texts, padded to one length, as host arrays. */
export interface TokenizedTexts {
  /** [count * length] row-major int32 ids. */
  ids: Int32Array;
  /** [count * length] 1 = token, 0 = padding. */
  mask: Int32Array;
  count: number;
  length: number;
}

/** The padding id of a tokenizer: its pad special token, else 0. */
export function padTokenId(tokenizer: Tokenizer): number {
  return tokenizer.specialTokens.pad?.id ?? 0;
}

/**
 * Encodes texts with special tokens, cuts each to `maxLength` (keeping the closing special
 * token, e.g. [SEP]) and pads to the longest (or to `maxLength` with `padToMax`).
 */
export function tokenizeTexts(
  tokenizer: Tokenizer,
  texts: readonly string[],
  maxLength: number,
  options: { padToMax?: boolean } = {},
): TokenizedTexts {
  if (!(Number.isInteger(maxLength) && maxLength >= 2)) {
    throw new TesseraError('E_CONFIG', `maxLength must be an integer >= 2, got ${maxLength}`);
  }
  const rows = texts.map((text) => {
    const ids = tokenizer.encode(text).ids;
    return ids.length <= maxLength ? ids : [...ids.slice(0, maxLength - 1), ids[ids.length - 1] as number];
  });
  const length = options.padToMax ? maxLength : Math.max(1, ...rows.map((r) => r.length));
  const ids = new Int32Array(rows.length * length).fill(padTokenId(tokenizer));
  const mask = new Int32Array(rows.length * length);
  rows.forEach((row, i) => {
    ids.set(row, i * length);
    mask.fill(1, i * length, i * length + row.length);
  });
  return { ids, mask, count: rows.length, length };
}

/** `tokenizeTexts` as int32 tensors `ids` and `mask` [count, length]; the caller disposes them. */
export function textTensors(tokenizer: Tokenizer, texts: readonly string[], maxLength: number): { ids: tf.Tensor2D; mask: tf.Tensor2D } {
  const t = tokenizeTexts(tokenizer, texts, maxLength);
  return { ids: tf.tensor2d(t.ids, [t.count, t.length], 'int32'), mask: tf.tensor2d(t.mask, [t.count, t.length], 'int32') };
}
