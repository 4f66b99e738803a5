import { parseConfig, type SeededRandom, TesseraError, tf } from '@tessera/core';
import type { z } from 'zod';
import { type TokenCrossEntropyOutput, tokenCrossEntropy } from './crossEntropy.js';
import { type MlmMaskingConfig, type MlmMaskingCounts, maskTokenTensor, mlmMaskingConfigSchema } from './mlmMasking.js';
import { stopGradient } from './tensorUtils.js';

/** Input of `mlmLoss`: MLM logits and labels, and optionally the momentum model's logits for distillation. */
export type MlmLossInput = {
  /** Token logits [B, S, V] of the (image-conditioned) encoder's MLM head. */
  logits: tf.Tensor;
  /** [B, S] int32: the original id at predicted positions, `ignoreIndex` elsewhere. */
  labels: tf.Tensor;
  /** Label of positions that are not predicted (default -100). */
  ignoreIndex?: number;
  /** Logits of the momentum model [B, S, V]: ALBEF's MLM distillation target softmax(momentumLogits). */
  momentumLogits?: tf.Tensor;
  /** Weight of the distillation term (ALBEF: 0.4); needs momentumLogits. */
  alpha?: number;
};

/**
 * Result of `mlmLoss`: `loss` (the distillation mix when distilling), with `accuracy` and
 * `count` over the predicted positions, plus both terms.
 */
export type MlmLossOutput = TokenCrossEntropyOutput & {
  /** Cross-entropy against the true tokens (equals `loss` without momentum distillation). */
  hardLoss: tf.Scalar;
  /** Cross-entropy against softmax(momentumLogits) on predicted positions; 0 without it. */
  distillLoss: tf.Scalar;
};

/**
 * Masked-LM loss: cross-entropy over predicted positions only; `accuracy` is over those too.
 * With `momentumLogits`, ALBEF's distillation: (1 - alpha) * hard + alpha * soft cross-entropy.
 */
export function mlmLoss(input: MlmLossInput): MlmLossOutput {
  const ignoreIndex = input.ignoreIndex ?? -100;
  const alpha = input.alpha ?? 0;
  if (!(alpha >= 0 && alpha <= 1)) throw new TesseraError('E_INPUT', `mlmLoss: alpha must be in [0, 1], got ${alpha}`);
  if (alpha > 0 && !input.momentumLogits) throw new TesseraError('E_INPUT', 'mlmLoss: alpha > 0 needs momentumLogits');
  if (input.momentumLogits && input.momentumLogits.shape.join() !== input.logits.shape.join()) {
    throw new TesseraError('E_INPUT', `mlmLoss: momentumLogits [${input.momentumLogits.shape}] must match logits [${input.logits.shape}]`);
  }
  const hard = tokenCrossEntropy(input.logits, input.labels, { ignoreIndex });
  const momentumLogits = input.momentumLogits;
  if (!momentumLogits || alpha === 0) return { ...hard, hardLoss: tf.clone(hard.loss), distillLoss: tf.scalar(0) };
  return tf.tidy(() => {
    const vocab = input.logits.shape[input.logits.rank - 1] as number;
    const logProbs = tf.logSoftmax(tf.reshape(input.logits, [-1, vocab]), -1);
    const soft = stopGradient(tf.softmax(tf.reshape(momentumLogits, [-1, vocab]), -1));
    const valid = tf.cast(tf.notEqual(tf.reshape(input.labels, [-1]), ignoreIndex), 'float32');
    const perToken = tf.neg(tf.sum(tf.mul(logProbs, soft), -1));
    const distillLoss = tf.div(tf.sum(tf.mul(perToken, valid)), Math.max(hard.count, 1)) as tf.Scalar;
    const loss = tf.add(tf.mul(hard.loss, 1 - alpha), tf.mul(distillLoss, alpha)) as tf.Scalar;
    return { loss, accuracy: hard.accuracy, count: hard.count, hardLoss: hard.loss, distillLoss };
  });
}

/**
 * Masked language modelling: BERT masking of a batch, then the loss on the model's logits.
 * The model (e.g. a fusion encoder attending to the image) sits between the two calls.
 */
export class MaskedLanguageModeling {
  readonly config: z.infer<typeof mlmMaskingConfigSchema>;

  constructor(config: MlmMaskingConfig) {
    this.config = parseConfig(mlmMaskingConfigSchema, config, 'MaskedLanguageModeling config');
  }

  /**
   * BERT masking of int32 ids [B, S] with the configured rates (see `maskTokens`): the model's
   * input ids, the labels for `loss`, and the counts. `wordIds` [B, S] are needed with wholeWord.
   */
  mask(
    ids: tf.Tensor2D,
    rng: SeededRandom,
    wordIds?: tf.Tensor2D,
  ): { inputIds: tf.Tensor2D; labels: tf.Tensor2D; counts: MlmMaskingCounts } {
    return maskTokenTensor(ids, this.config, rng, wordIds);
  }

  /** The loss; pass the momentum model's logits and alpha for ALBEF's MLM distillation. */
  loss(logits: tf.Tensor, labels: tf.Tensor, momentum?: { logits: tf.Tensor; alpha: number }): MlmLossOutput {
    return mlmLoss({ logits, labels, ignoreIndex: this.config.ignoreIndex, momentumLogits: momentum?.logits, alpha: momentum?.alpha });
  }
}
