import { Module, parseConfig, TesseraError, tf } from '@tessera/core';
import { z } from 'zod';
import { type ContrastiveMetrics, contrastiveMetrics } from './contrastiveMetrics.js';
import { softTargetCrossEntropy } from './crossEntropy.js';
import { resolvePositives } from './positives.js';
import { expectRank, l2Normalize, matMulTransposed } from './tensorUtils.js';

/** Input of `clipLoss`: two batches of embeddings, the log logit scale and optional positives. */
export interface ClipLossInput {
  /** Image embeddings [N, D]. */
  imageEmbeds: tf.Tensor;
  /** Text embeddings [M, D]. */
  textEmbeds: tf.Tensor;
  /** The learnable log of the logit scale (a scalar); exp(min(logitScale, maxLogitScale)) multiplies the similarities. */
  logitScale: tf.Tensor;
  /** [N, M], 1 where image i and text j match (several captions per image); default: the diagonal. */
  positives?: tf.Tensor;
  /** Label smoothing of the targets (default 0). */
  labelSmoothing?: number;
  /** Clamp of the log scale (default ln 100, as CLIP). */
  maxLogitScale?: number;
  /** L2-normalise the embeddings first (default true). */
  normalize?: boolean;
}

/** Result of `clipLoss`: the symmetric loss, its two directions, the applied scale and in-batch metrics. */
export type ClipLossOutput = {
  /** (lossImageToText + lossTextToImage) / 2. */
  loss: tf.Scalar;
  /** Cross-entropy of each image's logits over the texts (rows of the logits). */
  lossImageToText: tf.Scalar;
  /** Cross-entropy of each text's logits over the images (columns). */
  lossTextToImage: tf.Scalar;
  /** The scale actually applied: exp of the clamped log scale. */
  logitScale: tf.Scalar;
  /** In-batch accuracy and similarities, on the unscaled similarity. */
  metrics: ContrastiveMetrics;
};

/**
 * Symmetric InfoNCE of CLIP (open_clip's ClipLoss): logits = scale * img . txt^T; each image's
 * target is its positive texts (uniformly weighted), each text's its positive images.
 */
export function clipLoss(input: ClipLossInput): ClipLossOutput {
  expectRank(input.imageEmbeds, 2, 'clipLoss imageEmbeds');
  expectRank(input.textEmbeds, 2, 'clipLoss textEmbeds');
  const [n, dim] = input.imageEmbeds.shape as [number, number];
  const [m, textDim] = input.textEmbeds.shape as [number, number];
  if (dim !== textDim) throw new TesseraError('E_INPUT', `clipLoss: image dim ${dim} != text dim ${textDim}; project both to one size`);
  const smoothing = input.labelSmoothing ?? 0;
  const maxLogScale = input.maxLogitScale ?? Math.log(100);
  return tf.tidy(() => {
    const positives = resolvePositives(input.positives, n, m, 'clipLoss');
    const normalize = input.normalize ?? true;
    const image = normalize ? l2Normalize(input.imageEmbeds) : input.imageEmbeds;
    const text = normalize ? l2Normalize(input.textEmbeds) : input.textEmbeds;
    const scale = tf.exp(tf.clipByValue(tf.reshape(input.logitScale, []), -Number.MAX_VALUE, maxLogScale)) as tf.Scalar;
    const similarity = matMulTransposed(image, text) as tf.Tensor2D;
    const logits = tf.mul(similarity, scale) as tf.Tensor2D;
    const rowTargets = tf.div(positives, tf.sum(positives, 1, true)) as tf.Tensor2D;
    const positivesT = tf.transpose(positives) as tf.Tensor2D;
    const colTargets = tf.div(positivesT, tf.sum(positivesT, 1, true)) as tf.Tensor2D;
    const lossImageToText = softTargetCrossEntropy(logits, rowTargets, smoothing);
    const lossTextToImage = softTargetCrossEntropy(tf.transpose(logits) as tf.Tensor2D, colTargets, smoothing);
    return {
      loss: tf.div(tf.add(lossImageToText, lossTextToImage), 2) as tf.Scalar,
      lossImageToText,
      lossTextToImage,
      logitScale: scale,
      metrics: contrastiveMetrics(similarity, positives),
    };
  });
}

/**
 * Zod schema (strict) of `ClipLoss`'s config, defaults as CLIP/open_clip: initial log scale
 * ln(1/0.07), clamp ln 100, learnable scale, no label smoothing, L2-normalised embeddings.
 */
export const clipLossConfigSchema = z
  .object({
    /** Initial log scale: ln(1/0.07), CLIP's temperature 0.07. */
    initLogitScale: z.number().default(Math.log(1 / 0.07)),
    maxLogitScale: z.number().default(Math.log(100)),
    /** false freezes the scale at its initial value. */
    learnableScale: z.boolean().default(true),
    labelSmoothing: z.number().min(0).lt(1).default(0),
    normalize: z.boolean().default(true),
  })
  .strict();
/** `ClipLoss`'s config as written (every field optional); a bad or unknown field throws E_CONFIG. */
export type ClipLossConfig = z.input<typeof clipLossConfigSchema>;

/** CLIP's contrastive loss with its learnable logit scale as the parameter `logit_scale`. */
export class ClipLoss extends Module {
  readonly config: z.infer<typeof clipLossConfigSchema>;
  readonly logitScale: tf.Variable;

  constructor(config: ClipLossConfig = {}) {
    super();
    this.config = parseConfig(clipLossConfigSchema, config, 'ClipLoss config');
    this.logitScale = this.addParameter('logit_scale', tf.scalar(this.config.initLogitScale), {
      trainable: this.config.learnableScale,
    });
  }

  /**
   * Clamps the stored log scale to [0, maxLogitScale] in place; call after each optimizer step,
   * as open_clip does. The forward clamp alone gives a zero gradient above the bound, so a scale
   * that overshot would never come back down.
   */
  clampLogitScale(): void {
    tf.tidy(() => this.logitScale.assign(tf.clipByValue(this.logitScale, 0, this.config.maxLogitScale)));
  }

  /**
   * `clipLoss` of image embeddings [N, D] and text embeddings [M, D] with this module's scale and
   * config; `positives` [N, M] marks matching pairs (default the diagonal, which needs N == M).
   */
  forward(imageEmbeds: tf.Tensor, textEmbeds: tf.Tensor, positives?: tf.Tensor): ClipLossOutput {
    return clipLoss({
      imageEmbeds,
      textEmbeds,
      positives,
      logitScale: this.logitScale,
      labelSmoothing: this.config.labelSmoothing,
      maxLogitScale: this.config.maxLogitScale,
      normalize: this.config.normalize,
    });
  }
}
