import { parseConfig, tf } from '@tessera/core';
import { z } from 'zod';

export const cocaWeightsSchema = z
  .object({
    /** open_clip's CoCa defaults: contrastive 1, captioning 2. */
    contrastive: z.number().min(0).default(1),
    captioning: z.number().min(0).default(2),
  })
  .strict();
export type CocaWeights = z.input<typeof cocaWeightsSchema>;

export type CocaLossOutput = {
  loss: tf.Scalar;
  contrastive: tf.Scalar;
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
