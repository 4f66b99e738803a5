import type { SeededRandom, tf } from '@tessera/core';
import { parseConfig } from '@tessera/core';
import type { z } from 'zod';
import { type TokenCrossEntropyOutput, tokenCrossEntropy } from './crossEntropy.js';
import { type MlmMaskingConfig, type MlmMaskingCounts, maskTokenTensor, mlmMaskingConfigSchema } from './mlmMasking.js';

export interface MlmLossInput {
  /** Token logits [B, S, V] of the (image-conditioned) encoder's MLM head. */
  logits: tf.Tensor;
  /** [B, S] int32: the original id at predicted positions, `ignoreIndex` elsewhere. */
  labels: tf.Tensor;
  ignoreIndex?: number;
}

/** Masked-LM loss: cross-entropy over predicted positions only; `accuracy` is over those too. */
export function mlmLoss(input: MlmLossInput): TokenCrossEntropyOutput {
  return tokenCrossEntropy(input.logits, input.labels, { ignoreIndex: input.ignoreIndex ?? -100 });
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

  mask(
    ids: tf.Tensor2D,
    rng: SeededRandom,
    wordIds?: tf.Tensor2D,
  ): { inputIds: tf.Tensor2D; labels: tf.Tensor2D; counts: MlmMaskingCounts } {
    return maskTokenTensor(ids, this.config, rng, wordIds);
  }

  loss(logits: tf.Tensor, labels: tf.Tensor): TokenCrossEntropyOutput {
    return mlmLoss({ logits, labels, ignoreIndex: this.config.ignoreIndex });
  }
}
