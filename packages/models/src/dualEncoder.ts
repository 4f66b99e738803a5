import { Module, type SeededRandom, TesseraError, tf } from '@tessera/core';
import { type ClipLossOutput, clipLoss, l2Normalize } from '@tessera/objectives';
import type { Linear, TextEncoder, VisionEncoder } from '@tessera/transformer';
import type { Projection } from './config.js';
import { buildProjection } from './towers.js';

export interface DualEncoderOptions {
  /** The image tower; its `pooled` output [B, vision dim] is projected. */
  vision: VisionEncoder;
  /** The text tower; its `pooled` output [B, text dim] is projected. */
  text: TextEncoder;
  /** Width of the shared embedding space. */
  embedDim: number;
  /** log(1 / temperature) at start (CLIP: log(1/0.07)). */
  initLogitScale?: number;
  /** Clamp of the learned log-scale (CLIP: log(100)). */
  maxLogitScale?: number;
  /** 'linear' (bias-free, CLIP; default), 'none' (the pooled output is the embedding) or 'linear_bias'. */
  visionProjection?: Projection;
  textProjection?: Projection;
  rng: SeededRandom;
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
 */
export class DualEncoder extends Module {
  readonly vision_model: VisionEncoder;
  readonly text_model: TextEncoder;
  readonly visual_projection: Linear | null = null;
  readonly text_projection: Linear | null = null;
  readonly logit_scale: tf.Variable;
  readonly embedDim: number;
  readonly maxLogitScale: number;

  constructor(options: DualEncoderOptions) {
    super();
    if (!Number.isInteger(options.embedDim) || options.embedDim <= 0) {
      throw new TesseraError('E_CONFIG', `DualEncoder: embedDim must be a positive integer, got ${options.embedDim}`);
    }
    this.embedDim = options.embedDim;
    this.maxLogitScale = options.maxLogitScale ?? Math.log(100);
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
  }

  /** Image embeddings [B, embedDim]; unit length unless `normalize: false`. */
  encodeImage(images: tf.Tensor, options: { normalize?: boolean } = {}): tf.Tensor2D {
    return tf.tidy(() => {
      const out = this.vision_model.forward(images);
      const embeds = this.visual_projection ? this.visual_projection.forward(out.pooled) : out.pooled;
      return (options.normalize === false ? embeds : l2Normalize(embeds)) as tf.Tensor2D;
    });
  }

  /** Text embeddings [T, embedDim] from ids [T, S] and mask [T, S]; unit length unless `normalize: false`. */
  encodeText(ids: tf.Tensor, mask?: tf.Tensor, options: { normalize?: boolean } = {}): tf.Tensor2D {
    return tf.tidy(() => {
      const out = this.text_model.forward(ids, mask);
      const embeds = this.text_projection ? this.text_projection.forward(out.pooled) : out.pooled;
      return (options.normalize === false ? embeds : l2Normalize(embeds)) as tf.Tensor2D;
    });
  }

  /** exp(logit_scale) clamped as in training: the factor on cosine similarities. */
  temperatureScale(): number {
    return Math.exp(Math.min(this.logit_scale.dataSync()[0] as number, this.maxLogitScale));
  }

  /** The symmetric InfoNCE loss of one batch (unnormalized projections go in; clipLoss normalizes). */
  forward(batch: DualEncoderBatch): ClipLossOutput {
    return tf.tidy(
      () =>
        clipLoss({
          imageEmbeds: this.encodeImage(batch.images, { normalize: false }),
          textEmbeds: this.encodeText(batch.ids, batch.mask, { normalize: false }),
          logitScale: this.logit_scale,
          maxLogitScale: this.maxLogitScale,
          positives: batch.positives,
        }) as unknown as tf.TensorContainer,
    ) as unknown as ClipLossOutput;
  }
}
