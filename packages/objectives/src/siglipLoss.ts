import { Module, parseConfig, TesseraError, tf } from '@tessera/core';
import { z } from 'zod';
import { type ContrastiveMetrics, contrastiveMetrics } from './contrastiveMetrics.js';
import { resolvePositives } from './positives.js';
import { expectRank, l2Normalize, matMulTransposed } from './tensorUtils.js';

/** Input of `siglipLoss`: two batches of embeddings, the log scale and bias, and optional positives. */
export interface SiglipLossInput {
  /** Image embeddings [N, D]. */
  imageEmbeds: tf.Tensor;
  /** Text embeddings [M, D]. */
  textEmbeds: tf.Tensor;
  /** Learnable log scale t' (scalar); logits = exp(t') * img . txt^T + bias. */
  logitScale: tf.Tensor;
  /** Learnable bias b (scalar). */
  logitBias: tf.Tensor;
  /** [N, M], 1 for matching pairs (a row may have none); default: the diagonal. */
  positives?: tf.Tensor;
  /** L2-normalise the embeddings first (default true). */
  normalize?: boolean;
}

/** Result of `siglipLoss`: the loss and in-batch metrics. */
export type SiglipLossOutput = {
  /** -sum over all pairs of log sigmoid(label * logit), divided by the number of images. */
  loss: tf.Scalar;
  /** In-batch accuracy and similarities, on the unscaled similarity. */
  metrics: ContrastiveMetrics;
};

/**
 * SigLIP's pairwise sigmoid loss (Zhai et al. 2023, big_vision): every image-text pair is an
 * independent binary classification, label +1 for matches and -1 otherwise.
 */
export function siglipLoss(input: SiglipLossInput): SiglipLossOutput {
  expectRank(input.imageEmbeds, 2, 'siglipLoss imageEmbeds');
  expectRank(input.textEmbeds, 2, 'siglipLoss textEmbeds');
  const [n, dim] = input.imageEmbeds.shape as [number, number];
  const [m, textDim] = input.textEmbeds.shape as [number, number];
  if (dim !== textDim) throw new TesseraError('E_INPUT', `siglipLoss: image dim ${dim} != text dim ${textDim}; project both to one size`);
  return tf.tidy(() => {
    const positives = resolvePositives(input.positives, n, m, 'siglipLoss', false);
    const normalize = input.normalize ?? true;
    const image = normalize ? l2Normalize(input.imageEmbeds) : input.imageEmbeds;
    const text = normalize ? l2Normalize(input.textEmbeds) : input.textEmbeds;
    const similarity = matMulTransposed(image, text) as tf.Tensor2D;
    const logits = tf.add(tf.mul(similarity, tf.exp(tf.reshape(input.logitScale, []))), tf.reshape(input.logitBias, []));
    const labels = tf.sub(tf.mul(positives, 2), 1);
    // -log sigmoid(z) = softplus(-z); tf.logSigmoid's gradient reads its input after tidy frees it.
    const loss = tf.div(tf.sum(tf.softplus(tf.neg(tf.mul(labels, logits)))), n) as tf.Scalar;
    return { loss, metrics: contrastiveMetrics(similarity, positives) };
  });
}

/**
 * Zod schema (strict) of `SiglipLoss`'s config: initial log scale ln 10 and bias -10 (SigLIP's
 * init), both learnable, and L2-normalised embeddings, by default.
 */
export const siglipLossConfigSchema = z
  .object({
    /** SigLIP initialises t' = ln 10 and b = -10 so the many negatives do not dominate early. */
    initLogitScale: z.number().default(Math.log(10)),
    initLogitBias: z.number().default(-10),
    /** false freezes both the scale and the bias at their initial values. */
    learnable: z.boolean().default(true),
    /** L2-normalise the embeddings first. */
    normalize: z.boolean().default(true),
  })
  .strict();
/** `SiglipLoss`'s config as written (every field optional); a bad or unknown field throws E_CONFIG. */
export type SiglipLossConfig = z.input<typeof siglipLossConfigSchema>;

/** SigLIP loss with parameters `logit_scale` and `logit_bias`. */
export class SiglipLoss extends Module {
  readonly config: z.infer<typeof siglipLossConfigSchema>;
  readonly logitScale: tf.Variable;
  readonly logitBias: tf.Variable;

  constructor(config: SiglipLossConfig = {}) {
    super();
    this.config = parseConfig(siglipLossConfigSchema, config, 'SiglipLoss config');
    this.logitScale = this.addParameter('logit_scale', tf.scalar(this.config.initLogitScale), { trainable: this.config.learnable });
    this.logitBias = this.addParameter('logit_bias', tf.scalar(this.config.initLogitBias), { trainable: this.config.learnable });
  }

  /**
   * `siglipLoss` of image embeddings [N, D] and text embeddings [M, D] with this module's scale and
   * bias; `positives` [N, M] marks matching pairs (default the diagonal, which needs N == M).
   */
  forward(imageEmbeds: tf.Tensor, textEmbeds: tf.Tensor, positives?: tf.Tensor): SiglipLossOutput {
    return siglipLoss({
      imageEmbeds,
      textEmbeds,
      positives,
      logitScale: this.logitScale,
      logitBias: this.logitBias,
      normalize: this.config.normalize,
    });
  }
}
