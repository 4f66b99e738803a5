import { type SeededRandom, TesseraError, tf } from '@tessera/core';
import { captioningLoss } from './captioningLoss.js';
import type { TokenCrossEntropyOutput } from './crossEntropy.js';

/** Options of `shuffleWordOrder` and `TextDenoising`: the ids that stay in place and an optional maximum shift. */
export type WordShuffleOptions = {
  /**
   * Each word moves at most this many word positions (Lample et al. 2018: sort by i + U(0, k + 1));
   * omit for a uniform random order.
   */
  maxDistance?: number;
  /** Ids that stay where they are ([CLS], [SEP], padding). */
  specialTokenIds: number[];
};

/**
 * Text denoising by word-order shuffling: the words (runs of sub-tokens sharing a word id) of
 * each sequence are permuted, special tokens stay in place, sub-tokens stay together. The model
 * reconstructs the original ids (e.g. with `captioningLoss`). `ids` and `wordIds` are
 * [batch, seqLen] row-major; seeded.
 */
export function shuffleWordOrder(
  ids: Int32Array | number[],
  wordIds: Int32Array | number[],
  shape: [number, number],
  rng: SeededRandom,
  options: WordShuffleOptions,
): Int32Array {
  const [batch, seqLen] = shape;
  if (ids.length !== batch * seqLen || wordIds.length !== ids.length) {
    throw new TesseraError(
      'E_INPUT',
      `shuffleWordOrder: ids (${ids.length}) and wordIds (${wordIds.length}) must both fill [${batch}, ${seqLen}]`,
    );
  }
  const k = options.maxDistance;
  if (k !== undefined && !(Number.isInteger(k) && k >= 0)) {
    throw new TesseraError('E_INPUT', `shuffleWordOrder: maxDistance must be a non-negative integer, got ${k}`);
  }
  const special = new Set(options.specialTokenIds);
  const out = Int32Array.from(ids);
  for (let b = 0; b < batch; b++) {
    // Regular positions grouped into words in order of appearance.
    const words: number[][] = [];
    let lastWord: number | null = null;
    const regular: number[] = [];
    for (let s = 0; s < seqLen; s++) {
      const pos = b * seqLen + s;
      if (special.has(ids[pos] as number)) continue;
      regular.push(pos);
      const w = wordIds[pos] as number;
      if (w < 0 || w !== lastWord) words.push([pos]);
      else (words[words.length - 1] as number[]).push(pos);
      lastWord = w < 0 ? null : w;
    }
    const order =
      k === undefined
        ? rng.permutation(words.length)
        : words
            .map((_, i) => ({ i, key: i + rng.uniform(0, k + 1) }))
            .sort((x, y) => x.key - y.key)
            .map((x) => x.i);
    // Refill the regular slots, left to right, with the words in their new order.
    let slot = 0;
    for (const w of order) {
      for (const pos of words[w] as number[]) out[regular[slot++] as number] = ids[pos] as number;
    }
  }
  return out;
}

/** `shuffleWordOrder` on int32 [B, S] tensors: returns the noisy input ids. */
export function shuffleWordOrderTensor(
  ids: tf.Tensor2D,
  wordIds: tf.Tensor2D,
  rng: SeededRandom,
  options: WordShuffleOptions,
): tf.Tensor2D {
  const shape = ids.shape as [number, number];
  const out = shuffleWordOrder(ids.dataSync() as Int32Array, wordIds.dataSync() as Int32Array, shape, rng, options);
  return tf.tensor2d(out, shape, 'int32');
}

/**
 * Text denoising objective: `noise` shuffles the word order of a batch; the model (e.g. an
 * encoder-decoder) reads the noisy ids and is trained to emit the original ones with the
 * captioning loss (teacher forcing on the original sentence, padding ignored).
 */
export class TextDenoising {
  readonly options: WordShuffleOptions & { padTokenId: number; labelSmoothing: number };

  constructor(options: WordShuffleOptions & { padTokenId: number; labelSmoothing?: number }) {
    this.options = { ...options, labelSmoothing: options.labelSmoothing ?? 0 };
  }

  /**
   * The noisy input, int32 [B, S]: `ids` [B, S] with the order of their words (runs of equal
   * `wordIds`) shuffled, special ids in place (see `shuffleWordOrder`). Seeded by `rng`.
   */
  noise(ids: tf.Tensor2D, wordIds: tf.Tensor2D, rng: SeededRandom): tf.Tensor2D {
    return shuffleWordOrderTensor(ids, wordIds, rng, this.options);
  }

  /** Reconstruction loss of decoder logits [B, S, V] against the original next tokens [B, S]. */
  loss(logits: tf.Tensor, targets: tf.Tensor): TokenCrossEntropyOutput {
    return captioningLoss({ logits, targets, padTokenId: this.options.padTokenId, labelSmoothing: this.options.labelSmoothing });
  }
}
