import { parseConfig, TesseraError, tf } from '@tessera/core';
import { z } from 'zod';
import { type TokenCrossEntropyOutput, tokenCrossEntropy } from './crossEntropy.js';
import { expectRank } from './tensorUtils.js';

/**
 * Teacher forcing: the decoder reads tokens 0..T-2 and predicts tokens 1..T-1.
 * Returns int32 [B, T-1] tensors `inputIds` and `targetIds`.
 */
export function teacherForcing(ids: tf.Tensor2D): { inputIds: tf.Tensor2D; targetIds: tf.Tensor2D } {
  const [b, t] = ids.shape;
  if (t < 2) throw new TesseraError('E_INPUT', `teacherForcing: sequences need at least 2 tokens, got ${t}`);
  return tf.tidy(() => ({
    inputIds: tf.slice(ids, [0, 0], [b, t - 1]) as tf.Tensor2D,
    targetIds: tf.slice(ids, [0, 1], [b, t - 1]) as tf.Tensor2D,
  }));
}

/** Input of `captioningLoss`: decoder logits, next-token targets and the padding id. */
export type CaptioningLossInput = {
  /** Decoder logits [B, S, V] for each target position. */
  logits: tf.Tensor;
  /** [B, S] int32 next-token targets (from `teacherForcing`). */
  targets: tf.Tensor;
  /** Targets equal to this id (padding) do not count. */
  padTokenId: number;
  /** Label smoothing in [0, 1) (default 0 here; `CaptioningLoss` defaults to 0.1). */
  labelSmoothing?: number;
};

/**
 * Captioning LM loss: token cross-entropy over non-padding targets, with label smoothing, as
 * `F.cross_entropy(logits, targets, ignore_index=pad, label_smoothing=eps)`. `accuracy` is
 * next-token accuracy over the same positions.
 */
export function captioningLoss(input: CaptioningLossInput): TokenCrossEntropyOutput {
  expectRank(input.logits, 3, 'captioningLoss logits');
  return tokenCrossEntropy(input.logits, input.targets, { ignoreIndex: input.padTokenId, labelSmoothing: input.labelSmoothing ?? 0 });
}

/**
 * Zod schema (strict) of `CaptioningLoss`'s config: `padTokenId` (required integer) and
 * `labelSmoothing` in [0, 1), default 0.1.
 */
export const captioningLossConfigSchema = z
  .object({
    padTokenId: z.number().int(),
    labelSmoothing: z.number().min(0).lt(1).default(0.1),
  })
  .strict();
/** `CaptioningLoss`'s config as written (`labelSmoothing` optional); a bad or unknown field throws E_CONFIG. */
export type CaptioningLossConfig = z.input<typeof captioningLossConfigSchema>;

/** Captioning LM objective with its config. */
export class CaptioningLoss {
  readonly config: z.infer<typeof captioningLossConfigSchema>;

  constructor(config: CaptioningLossConfig) {
    this.config = parseConfig(captioningLossConfigSchema, config, 'CaptioningLoss config');
  }

  /**
   * `captioningLoss` of decoder logits [B, S, V] against int32 next-token targets [B, S] (e.g.
   * `teacherForcing(ids).targetIds`), with the configured padding id and label smoothing.
   */
  forward(logits: tf.Tensor, targets: tf.Tensor): TokenCrossEntropyOutput {
    return captioningLoss({ logits, targets, ...this.config });
  }
}
