import { TesseraError, tf } from '@tessera/core';
import type { EncodeInput, EncodeOptions, Encoding, Tokenizer } from '@tessera/tokenizer';

/**
 * Options of `encodeBatchToTensors`: the tokenizer's encode options plus the row length and
 * padding side, which replace the tokenizer's own padding setting.
 */
export interface BatchTensorOptions extends EncodeOptions {
  /** Truncate every row to this many tokens (special tokens kept, as the tokenizer's truncation) and pad to it. */
  maxLength?: number;
  /** Pad every row to this length (longer encodings must be truncated first). */
  length?: number;
  /** Round the row length up to a multiple of this. */
  padToMultipleOf?: number;
  /** Pad on the right (default) or the left. */
  direction?: 'right' | 'left';
  /** Also return the special-tokens mask (1 for [CLS], [SEP], padding...), e.g. to exclude them from MLM masking. */
  specialTokensMask?: boolean;
}

/** A batch as int32 tensors of shape [batch, length]; dispose them when done. */
export interface BatchTensors {
  inputIds: tf.Tensor2D;
  attentionMask: tf.Tensor2D;
  tokenTypeIds: tf.Tensor2D;
  /** Present when asked for with `specialTokensMask: true`. */
  specialTokensMask?: tf.Tensor2D;
}

/**
 * Encodes a batch straight into int32 tensors: ids, mask and type ids are written once into
 * Int32Array buffers (padding with the tokenizer's pad id) and handed to tfjs without copies
 * through intermediate arrays. Uses the tokenizer's truncation; its padding setting is ignored
 * in favour of `options`.
 */
export function encodeBatchToTensors(tokenizer: Tokenizer, inputs: EncodeInput[], options: BatchTensorOptions = {}): BatchTensors {
  const { padding, truncation } = tokenizer.settings;
  let encodings: Encoding[];
  if (options.maxLength === undefined) encodings = tokenizer.encodeBatch(inputs, options);
  else {
    tokenizer.setTruncation({ ...(truncation ?? {}), maxLength: options.maxLength });
    try {
      encodings = tokenizer.encodeBatch(inputs, options);
    } finally {
      if (truncation === null) tokenizer.noTruncation();
      else tokenizer.setTruncation(truncation);
    }
  }
  let length = options.length ?? options.maxLength ?? encodings.reduce((m, e) => Math.max(m, e.length), 0);
  const multiple = options.padToMultipleOf;
  if (multiple !== undefined && multiple > 0 && length % multiple > 0) length += multiple - (length % multiple);
  const rows = encodings.length;
  for (let r = 0; r < rows; r++) {
    if (encodings[r].length > length) {
      throw new TesseraError(
        'E_INPUT',
        `Input ${r} has ${encodings[r].length} tokens, more than length ${length}; set truncation on the tokenizer.`,
        {
          details: { index: r },
        },
      );
    }
  }
  const padId = padding?.padId ?? tokenizer.specialTokens.pad?.id ?? 0;
  const padTypeId = padding?.padTypeId ?? 0;
  const left = (options.direction ?? padding?.direction ?? 'right') === 'left';
  const ids = new Int32Array(rows * length).fill(padId);
  const mask = new Int32Array(rows * length);
  const types = new Int32Array(rows * length).fill(padTypeId);
  const special = options.specialTokensMask ? new Int32Array(rows * length).fill(1) : null;
  for (let r = 0; r < rows; r++) {
    const e = encodings[r];
    const n = e.length;
    let at = r * length + (left ? length - n : 0);
    const eIds = e.ids;
    const eMask = e.attentionMask;
    const eTypes = e.typeIds;
    const eSpecial = e.specialTokensMask;
    for (let i = 0; i < n; i++, at++) {
      ids[at] = eIds[i];
      mask[at] = eMask[i];
      types[at] = eTypes[i];
      if (special !== null) special[at] = eSpecial[i];
    }
  }
  const shape: [number, number] = [rows, length];
  const out: BatchTensors = {
    inputIds: tf.tensor2d(ids, shape, 'int32'),
    attentionMask: tf.tensor2d(mask, shape, 'int32'),
    tokenTypeIds: tf.tensor2d(types, shape, 'int32'),
  };
  if (special !== null) out.specialTokensMask = tf.tensor2d(special, shape, 'int32');
  return out;
}
