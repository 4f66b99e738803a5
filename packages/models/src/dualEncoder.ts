import { Module, type SeededRandom, TesseraError, tf } from '@tessera/core';
import { type ClipLossOutput, clipLoss, l2Normalize, siglipLoss } from '@tessera/objectives';
import type { Linear, TextEncoder, VisionEncoder } from '@tessera/transformer';
import type { Projection } from './config.js';
import { buildProjection } from './towers.js';

/**
 * Options of `DualEncoder`: the two towers and the heads; the defaults are CLIP's. An embedDim
 * that is not a positive integer, or a 'none' projection whose tower width differs from it, is E_CONFIG.
 */
export interface DualEncoderOptions {
  /** The image tower; its `pooled` output [B, vision dim] is projected. */
  vision: VisionEncoder;
  /** The text tower; its `pooled` output [B, text dim] is projected. */
  text: TextEncoder;
  /** Width of the shared embedding space. */
  embedDim: number;
  /** log(1 / temperature) at start (CLIP: log(1/0.07)). */
  initLogitScale?: number;
  /** Clamp of the learned log-scale under softmax scoring (CLIP: log(100)). */
  maxLogitScale?: number;
  /** 'softmax' (CLIP, default) or 'sigmoid' (SigLIP: pairwise loss, `logit_bias`, unclamped scale). */
  scoring?: 'softmax' | 'sigmoid';
  /** Start value of `logit_bias` under sigmoid scoring (SigLIP: -10). */
  initLogitBias?: number;
  /** 'linear' (bias-free, CLIP; default), 'none' (the pooled output is the embedding) or 'linear_bias'. */
  visionProjection?: Projection;
  textProjection?: Projection;
  rng: SeededRandom;
}

/** Image-text scores of a dual encoder. */
export interface DualEncoderLogits {
  /** `[B, T]`: exp(logit_scale) * cos (+ logit_bias under sigmoid scoring), transformers' logits_per_image. */
  logitsPerImage: tf.Tensor2D;
  /** `[B, T]`: sigmoid of the logits (SigLIP), or their softmax over the texts (CLIP). */
  scores: tf.Tensor2D;
}

/** What a dual encoder sees in one contrastive step. */
export interface DualEncoderBatch {
  /** Images NCHW [B, C, H, W], normalized. */
  images: tf.Tensor;
  /** Token ids [T, S] int32 (T may differ from B: several captions per image). */
  ids: tf.Tensor;
  /** [T, S] 1 = token, 0 = padding. */
  mask?: tf.Tensor;
  /** [B, T] 1 where image i matches text j; default: the diagonal (needs T = B). */
  positives?: tf.Tensor;
}

/**
 * CLIP (Radford et al. 2021): an image tower and a text tower, each followed by a bias-free
 * linear projection into one embedding space, and a learnable temperature. Parameter names
 * follow Hugging Face's CLIPModel: `vision_model.*`, `text_model.*`, `visual_projection.weight`,
 * `text_projection.weight`, `logit_scale`. Encoders are injected, so any tower fits.
 *
 * With sigmoid scoring it is SigLIP (Zhai et al. 2023): pairwise sigmoid loss and scores with a
 * learnable `logit_bias`; SigLIP's vision tower has no projection and its text tower a Linear
 * with bias (transformers' `text_model.head`, here `text_projection`).
 */
export class DualEncoder extends Module {
  readonly vision_model: VisionEncoder;
  readonly text_model: TextEncoder;
  readonly visual_projection: Linear | null = null;
  readonly text_projection: Linear | null = null;
  readonly logit_scale: tf.Variable;
  readonly logit_bias: tf.Variable | null;
  readonly embedDim: number;
  readonly maxLogitScale: number;
  readonly scoring: 'softmax' | 'sigmoid';

  constructor(options: DualEncoderOptions) {
    super();
    if (!Number.isInteger(options.embedDim) || options.embedDim <= 0) {
      throw new TesseraError('E_CONFIG', `DualEncoder: embedDim must be a positive integer, got ${options.embedDim}`);
    }
    this.embedDim = options.embedDim;
    this.maxLogitScale = options.maxLogitScale ?? Math.log(100);
    this.scoring = options.scoring ?? 'softmax';
    this.vision_model = this.addModule('vision_model', options.vision);
    this.text_model = this.addModule('text_model', options.text);
    const project = (kind: Projection, inFeatures: number, label: string) => {
      if (kind === 'none' && inFeatures !== options.embedDim) {
        throw new TesseraError(
          'E_CONFIG',
          `DualEncoder: ${label} 'none' needs the tower width ${inFeatures} to equal embedDim ${options.embedDim}`,
        );
      }
      const linear = buildProjection(kind, inFeatures, options.embedDim, options.rng.fork(label));
      return linear ? this.addModule(label, linear) : null;
    };
    this.visual_projection = project(options.visionProjection ?? 'linear', options.vision.config.dim, 'visual_projection');
    this.text_projection = project(options.textProjection ?? 'linear', options.text.config.dim, 'text_projection');
    this.logit_scale = this.addParameter('logit_scale', tf.scalar(options.initLogitScale ?? Math.log(1 / 0.07)), { decay: false });
    this.logit_bias =
      this.scoring === 'sigmoid' ? this.addParameter('logit_bias', tf.scalar(options.initLogitBias ?? -10), { decay: false }) : null;
  }

  /** Image embeddings [B, embedDim]; unit length unless `normalize: false`. */
  encodeImage(images: tf.Tensor, options: { normalize?: boolean } = {}): tf.Tensor2D {
    return tf.tidy(() => {
      const { pooled } = this.vision_model.forward(images);
      const embeds = this.visual_projection ? this.visual_projection.forward(pooled) : pooled;
      return (options.normalize === false ? embeds : l2Normalize(embeds)) as tf.Tensor2D;
    });
  }

  /** Text embeddings [T, embedDim] from ids [T, S] and mask [T, S]; unit length unless `normalize: false`. */
  encodeText(ids: tf.Tensor, mask?: tf.Tensor, options: { normalize?: boolean } = {}): tf.Tensor2D {
    return tf.tidy(() => {
      const { pooled } = this.text_model.forward(ids, mask);
      const embeds = this.text_projection ? this.text_projection.forward(pooled) : pooled;
      return (options.normalize === false ? embeds : l2Normalize(embeds)) as tf.Tensor2D;
    });
  }

  /** exp(logit_scale) as in training (clamped under softmax scoring): the factor on cosine similarities. */
  temperatureScale(): number {
    const scale = this.logit_scale.dataSync()[0] as number;
    return Math.exp(this.scoring === 'sigmoid' ? scale : Math.min(scale, this.maxLogitScale));
  }

  /** Logits and scores [B, T] of unit-length image [B, D] and text [T, D] embeddings. */
  logitsFromEmbeddings(imageEmbeds: tf.Tensor2D, textEmbeds: tf.Tensor2D): DualEncoderLogits {
    return tf.tidy(() => {
      let logits = tf.mul(tf.matMul(imageEmbeds, textEmbeds, false, true), this.temperatureScale());
      if (this.logit_bias) logits = tf.add(logits, this.logit_bias);
      const scores = this.scoring === 'sigmoid' ? tf.sigmoid(logits) : tf.softmax(logits, -1);
      return { logitsPerImage: logits, scores } as unknown as tf.TensorContainer;
    }) as unknown as DualEncoderLogits;
  }

  /** transformers' `logits_per_image` [B, T] of images and texts (ids/mask [T, S]), with their scores. */
  logits(images: tf.Tensor, ids: tf.Tensor, mask?: tf.Tensor): DualEncoderLogits {
    return tf.tidy(
      () => this.logitsFromEmbeddings(this.encodeImage(images), this.encodeText(ids, mask)) as unknown as tf.TensorContainer,
    ) as unknown as DualEncoderLogits;
  }

  /**
   * The contrastive loss of one batch (unnormalized projections go in; the losses normalize):
   * CLIP's symmetric InfoNCE, or SigLIP's pairwise sigmoid loss, which has no direction, so
   * both direction fields hold the loss itself.
   */
  forward(batch: DualEncoderBatch): ClipLossOutput {
    return tf.tidy(() => {
      const imageEmbeds = this.encodeImage(batch.images, { normalize: false });
      const textEmbeds = this.encodeText(batch.ids, batch.mask, { normalize: false });
      if (!this.logit_bias) {
        return clipLoss({
          imageEmbeds,
          textEmbeds,
          logitScale: this.logit_scale,
          maxLogitScale: this.maxLogitScale,
          positives: batch.positives,
        }) as unknown as tf.TensorContainer;
      }
      const out = siglipLoss({
        imageEmbeds,
        textEmbeds,
        logitScale: this.logit_scale,
        logitBias: this.logit_bias,
        positives: batch.positives,
      });
      const result: ClipLossOutput = {
        loss: out.loss,
        lossImageToText: tf.clone(out.loss),
        lossTextToImage: tf.clone(out.loss),
        logitScale: tf.exp(this.logit_scale) as tf.Scalar,
        metrics: out.metrics,
      };
      return result as unknown as tf.TensorContainer;
    }) as unknown as ClipLossOutput;
  }
}
