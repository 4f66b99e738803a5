import { parseConfig, SeededRandom, TesseraError, tf } from '@tessera/core';
import { Linear } from '@tessera/transformer';
import { z } from 'zod';
import { type TokenCrossEntropyOutput, tokenCrossEntropy } from './crossEntropy.js';
import { expectRank } from './tensorUtils.js';

/** Result of `sampleHardNegatives`: batch indices of one sampled negative per image and per text. */
export type HardNegatives = {
  /** For each image i, the index of a non-matching text drawn with probability softmax(sim[i, :]). */
  textForImage: Int32Array;
  /** For each text j, the index of a non-matching image drawn with probability softmax(sim[:, j]). */
  imageForText: Int32Array;
};

/**
 * ALBEF's hard-negative mining for image-text matching (Li et al. 2021): for each image, a
 * negative text is sampled in proportion to exp(similarity) among the batch's non-matching
 * texts (so similar, confusable ones are likely), and likewise a negative image for each text.
 * `similarity` is [B, B] image-to-text logits (e.g. contrastive similarity / temperature);
 * `positives` [B, B] marks pairs that must not be drawn (default: the diagonal). Seeded.
 */
export function sampleHardNegatives(similarity: tf.Tensor, rng: SeededRandom, positives?: tf.Tensor): HardNegatives {
  expectRank(similarity, 2, 'sampleHardNegatives similarity');
  const [n, m] = similarity.shape as [number, number];
  if (n !== m) throw new TesseraError('E_INPUT', `sampleHardNegatives: similarity must be square [B, B], got [${n}, ${m}]`);
  if (positives && positives.shape.join() !== similarity.shape.join()) {
    throw new TesseraError('E_INPUT', `sampleHardNegatives: positives must be [${n}, ${n}], got [${positives.shape.join(', ')}]`);
  }
  const sim = similarity.dataSync();
  if (!sim.every(Number.isFinite)) {
    throw new TesseraError('E_INPUT', 'sampleHardNegatives: similarity holds NaN or Infinity; check the embeddings and the temperature');
  }
  const pos = positives?.dataSync();
  const isPositive = (i: number, j: number) => (pos ? pos[i * n + j] !== 0 : i === j);
  const draw = (get: (k: number) => number, excluded: (k: number) => boolean, who: string): number => {
    let max = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < n; k++) if (!excluded(k)) max = Math.max(max, get(k));
    if (max === Number.NEGATIVE_INFINITY) {
      throw new TesseraError(
        'E_INPUT',
        `sampleHardNegatives: ${who} has no negative in the batch; batches need at least two distinct items`,
      );
    }
    const weights = Array.from({ length: n }, (_, k) => (excluded(k) ? 0 : Math.exp(get(k) - max)));
    let r = rng.next() * weights.reduce((a, b) => a + b, 0);
    let last = -1;
    for (let k = 0; k < n; k++) {
      if (weights[k] === 0) continue;
      last = k;
      r -= weights[k] as number;
      if (r < 0) return k;
    }
    return last; // rounding left r at ~0: the last candidate
  };
  const textForImage = new Int32Array(n);
  const imageForText = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    textForImage[i] = draw(
      (j) => sim[i * n + j] as number,
      (j) => isPositive(i, j),
      `image ${i}`,
    );
  }
  for (let j = 0; j < n; j++) {
    imageForText[j] = draw(
      (i) => sim[i * n + j] as number,
      (i) => isPositive(i, j),
      `text ${j}`,
    );
  }
  return { textForImage, imageForText };
}

/**
 * The ITM batch layout of ALBEF: B positive pairs, then B (negative image, text) pairs, then B
 * (image, negative text) pairs; labels [3B] int32 are 1 for the first B, 0 after.
 */
export function itmLabels(batch: number): tf.Tensor1D {
  const labels = new Int32Array(3 * batch);
  labels.fill(1, 0, batch);
  return tf.tensor1d(labels, 'int32');
}

/** Image-text matching loss: two-way cross-entropy over the head's logits [N, 2] (class 1 = match). */
export function itmLoss(logits: tf.Tensor, labels: tf.Tensor): TokenCrossEntropyOutput {
  expectRank(logits, 2, 'itmLoss logits');
  if (logits.shape[1] !== 2) throw new TesseraError('E_INPUT', `itmLoss: logits must be [N, 2], got [${logits.shape.join(', ')}]`);
  return tokenCrossEntropy(logits, labels);
}

/** Zod schema (strict) of `ItmHead`'s config: the fusion encoder's hidden size and the generator of its init. */
export const itmHeadConfigSchema = z
  .object({
    /** Width of the fusion encoder's CLS output. */
    hiddenSize: z.number().int().positive(),
    /** Draws the truncated-normal initial weights. */
    rng: z.custom<SeededRandom>((v) => v instanceof SeededRandom, { message: 'expected a SeededRandom' }),
  })
  .strict();
/** `ItmHead`'s config as written; a bad or unknown field throws E_CONFIG. */
export type ItmHeadConfig = z.input<typeof itmHeadConfigSchema>;

/**
 * The binary match/no-match classifier on the fusion encoder's CLS output: a Linear [2, H]
 * (parameters `weight`, `bias`, as `itm_head` in ALBEF/BLIP), truncated-normal init.
 */
export class ItmHead extends Linear {
  constructor(config: ItmHeadConfig) {
    const c = parseConfig(itmHeadConfigSchema, config, 'ItmHead config');
    super({ inFeatures: c.hiddenSize, outFeatures: 2, init: 'trunc_normal', rng: c.rng });
  }

  /** Loss and accuracy of the head on CLS outputs [N, H] with match labels [N]. */
  loss(cls: tf.Tensor, labels: tf.Tensor): TokenCrossEntropyOutput {
    return tf.tidy(() => itmLoss(this.forward(cls), labels));
  }
}
