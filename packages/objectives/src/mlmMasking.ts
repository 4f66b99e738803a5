import { parseConfig, type SeededRandom, TesseraError, tf } from '@tessera/core';
import { z } from 'zod';

/**
 * Zod schema (strict) of BERT masking's config (`maskTokens`, `MaskedLanguageModeling`): the
 * [MASK] id, vocabulary size and special ids required; rates default to BERT's 15 % / 80 % / 10 %.
 */
export const mlmMaskingConfigSchema = z
  .object({
    /** Id of the [MASK] token. */
    maskTokenId: z.number().int().nonnegative(),
    /** Vocabulary size; random replacements are drawn from [0, vocabSize) minus the special ids. */
    vocabSize: z.number().int().positive(),
    /** Ids never masked nor drawn as replacements: [CLS], [SEP], [PAD], [MASK], [UNK]... */
    specialTokenIds: z.array(z.number().int()).min(1),
    /** Fraction of the maskable tokens of each sequence to predict (BERT: 0.15). */
    maskProbability: z.number().gt(0).lt(1).default(0.15),
    /** Of the predicted tokens: fraction replaced by [MASK] (0.8), by a random token (0.1); the rest stay. */
    maskReplaceProbability: z.number().min(0).max(1).default(0.8),
    randomReplaceProbability: z.number().min(0).max(1).default(0.1),
    /** Mask all sub-tokens of a word together (needs word ids). */
    wholeWord: z.boolean().default(false),
    /** Label of positions that are not predicted (PyTorch's ignore_index). */
    ignoreIndex: z.number().int().default(-100),
  })
  .strict()
  .refine((c) => c.maskReplaceProbability + c.randomReplaceProbability <= 1, {
    message: 'maskReplaceProbability + randomReplaceProbability must be at most 1',
    path: ['randomReplaceProbability'],
  });
/** BERT masking's config as written (defaulted fields optional); a bad or unknown field throws E_CONFIG. */
export type MlmMaskingConfig = z.input<typeof mlmMaskingConfigSchema>;

/** What `maskTokens` did, summed over the batch: to check the masking rates on real data. */
export type MlmMaskingCounts = {
  /** Tokens that could be masked (not special). */
  maskable: number;
  /** Tokens chosen for prediction. */
  predicted: number;
  /** Of those: replaced by [MASK], by a random token, left unchanged. */
  replacedWithMask: number;
  /** Predicted tokens replaced by a random non-special token. */
  replacedWithRandom: number;
  /** Predicted tokens left unchanged in the input. */
  kept: number;
};

/** Result of `maskTokens`: input ids and labels, flat [B, S] row-major int32, and the counts. */
export type MlmMaskingOutput = {
  /** Model input: the ids with the chosen tokens replaced, [B, S] row-major. */
  inputIds: Int32Array;
  /** The original id where a token is predicted, `ignoreIndex` elsewhere. */
  labels: Int32Array;
  /** What the masking did, summed over the batch. */
  counts: MlmMaskingCounts;
};

/**
 * BERT's masking (Devlin et al. 2019, create_pretraining_data.py): in each sequence, round(15 %)
 * of the maskable tokens (at least one) are chosen, whole words together if asked; each chosen
 * token becomes [MASK] 80 % of the time, a random non-special token 10 %, itself 10 %.
 *
 * `ids` is [batch, seqLen] row-major. `wordIds` (same layout, e.g. from a tokenizer's
 * `word_ids()`, -1 for none) groups sub-tokens into words for whole-word masking.
 */
export function maskTokens(
  ids: Int32Array | number[],
  shape: [number, number],
  config: MlmMaskingConfig,
  rng: SeededRandom,
  wordIds?: Int32Array | number[],
): MlmMaskingOutput {
  const c = parseConfig(mlmMaskingConfigSchema, config, 'MLM masking config');
  const [batch, seqLen] = shape;
  if (ids.length !== batch * seqLen) {
    throw new TesseraError('E_INPUT', `maskTokens: ${ids.length} ids do not fill shape [${batch}, ${seqLen}]`);
  }
  if (c.wholeWord && (!wordIds || wordIds.length !== ids.length)) {
    throw new TesseraError('E_INPUT', 'maskTokens: wholeWord needs wordIds with one entry per token (use wordIdsFromContinuation)');
  }
  const special = new Set(c.specialTokenIds);
  if (!special.has(c.maskTokenId)) special.add(c.maskTokenId);
  if (special.size >= c.vocabSize) throw new TesseraError('E_CONFIG', 'MLM masking config: every vocabulary id is special');
  const inputIds = Int32Array.from(ids);
  const labels = new Int32Array(ids.length).fill(c.ignoreIndex);
  const counts: MlmMaskingCounts = { maskable: 0, predicted: 0, replacedWithMask: 0, replacedWithRandom: 0, kept: 0 };
  for (let b = 0; b < batch; b++) {
    const units = maskableUnits(ids, b * seqLen, seqLen, special, c.wholeWord ? wordIds : undefined, c.vocabSize);
    const maskable = units.reduce((n, u) => n + u.length, 0);
    if (maskable === 0) continue;
    counts.maskable += maskable;
    const target = Math.max(1, Math.round(maskable * c.maskProbability));
    let chosen = 0;
    for (const unit of rng.shuffle(units)) {
      if (chosen >= target) break;
      if (chosen + unit.length > target) continue; // BERT skips a word that would overshoot
      chosen += unit.length;
      for (const pos of unit) {
        labels[pos] = ids[pos] as number;
        const r = rng.next();
        if (r < c.maskReplaceProbability) {
          inputIds[pos] = c.maskTokenId;
          counts.replacedWithMask++;
        } else if (r < c.maskReplaceProbability + c.randomReplaceProbability) {
          inputIds[pos] = randomRegularId(rng, c.vocabSize, special);
          counts.replacedWithRandom++;
        } else {
          counts.kept++;
        }
      }
    }
    counts.predicted += chosen;
  }
  return { inputIds, labels, counts };
}

/** Positions of one sequence grouped into units that are masked together (tokens, or words). */
function maskableUnits(
  ids: Int32Array | number[],
  start: number,
  length: number,
  special: Set<number>,
  wordIds: Int32Array | number[] | undefined,
  vocabSize: number,
): number[][] {
  const units: number[][] = [];
  const byWord = new Map<number, number[]>();
  for (let pos = start; pos < start + length; pos++) {
    const id = ids[pos] as number;
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
      throw new TesseraError('E_INPUT', `maskTokens: id ${id} at position ${pos} is outside the vocabulary [0, ${vocabSize})`);
    }
    if (special.has(id)) continue;
    const word = wordIds ? (wordIds[pos] as number) : -1;
    if (word < 0) {
      units.push([pos]);
      continue;
    }
    const unit = byWord.get(word);
    if (unit) unit.push(pos);
    else {
      const fresh = [pos];
      byWord.set(word, fresh);
      units.push(fresh);
    }
  }
  return units;
}

function randomRegularId(rng: SeededRandom, vocabSize: number, special: Set<number>): number {
  for (;;) {
    const id = rng.int(vocabSize);
    if (!special.has(id)) return id;
  }
}

/**
 * Word ids for whole-word masking from a "continues the previous word" test, e.g. WordPiece's
 * `##` prefix: `wordIdsFromContinuation(ids, shape, (id) => vocab[id].startsWith('##'))`.
 * Every sequence numbers its words from 0; a continuation at the start of a row opens a word.
 */
export function wordIdsFromContinuation(
  ids: Int32Array | number[],
  shape: [number, number],
  isContinuation: (id: number) => boolean,
): Int32Array {
  const [batch, seqLen] = shape;
  const out = new Int32Array(batch * seqLen);
  for (let b = 0; b < batch; b++) {
    let word = -1;
    for (let s = 0; s < seqLen; s++) {
      const pos = b * seqLen + s;
      if (s === 0 || !isContinuation(ids[pos] as number)) word++;
      out[pos] = word;
    }
  }
  return out;
}

/** `maskTokens` on a [B, S] int32 tensor, returning int32 tensors `inputIds` and `labels`. */
export function maskTokenTensor(
  ids: tf.Tensor2D,
  config: MlmMaskingConfig,
  rng: SeededRandom,
  wordIds?: tf.Tensor2D,
): { inputIds: tf.Tensor2D; labels: tf.Tensor2D; counts: MlmMaskingCounts } {
  const shape = ids.shape as [number, number];
  const out = maskTokens(ids.dataSync() as Int32Array, shape, config, rng, wordIds?.dataSync() as Int32Array | undefined);
  return { inputIds: tf.tensor2d(out.inputIds, shape, 'int32'), labels: tf.tensor2d(out.labels, shape, 'int32'), counts: out.counts };
}
