import { parseConfig, tf } from '@tessera/core';
import { z } from 'zod';

/** Zod schema (strict) of `cocaLoss`'s weights: contrastive (default 1) and captioning (default 2), both >= 0. */
export const cocaWeightsSchema = z
  .object({
    /** open_clip's CoCa defaults: contrastive 1, captioning 2. */
    contrastive: z.number().min(0).default(1),
    captioning: z.number().min(0).default(2),
  })
  .strict();
/** `cocaLoss`'s weights as written (both optional); a bad or unknown field throws E_CONFIG. */
export type CocaWeights = z.input<typeof cocaWeightsSchema>;

/** Result of `cocaLoss`: the weighted total and its two parts, unweighted. */
export type CocaLossOutput = {
  /** contrastive weight * contrastive + captioning weight * captioning. */
  loss: tf.Scalar;
  /** A copy of the contrastive loss passed in. */
  contrastive: tf.Scalar;
  /** A copy of the captioning loss passed in. */
  captioning: tf.Scalar;
};

/** CoCa (Yu et al. 2022): weighted sum of a contrastive loss and a captioning loss. */
export function cocaLoss(contrastive: tf.Scalar, captioning: tf.Scalar, weights: CocaWeights = {}): CocaLossOutput {
  const w = parseConfig(cocaWeightsSchema, weights, 'CoCa weights');
  return tf.tidy(() => ({
    loss: tf.add(tf.mul(contrastive, w.contrastive), tf.mul(captioning, w.captioning)) as tf.Scalar,
    contrastive: tf.clone(contrastive),
    captioning: tf.clone(captioning),
  }));
}
