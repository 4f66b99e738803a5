import { Module, TesseraError, tf } from '@tessera/core';
import { l2Normalize } from '@tessera/objectives';
import type { Linear, TextEncoder, VisionEncoder } from '@tessera/transformer';

/**
 * One tower of a dual encoder on its own (Hugging Face CLIPVisionModel[WithProjection],
 * CLIPTextModel[WithProjection]): `encodeImage` or `encodeText` gives the pooled output,
 * through the projection when there is one. Names as Hugging Face: `vision_model.*` +
 * `visual_projection.weight`, or `text_model.*` + `text_projection.weight`.
 */
export class TowerEncoder extends Module {
  readonly vision_model: VisionEncoder | null = null;
  readonly text_model: TextEncoder | null = null;
  readonly visual_projection: Linear | null = null;
  readonly text_projection: Linear | null = null;

  constructor(options: { vision: VisionEncoder; projection: Linear | null } | { text: TextEncoder; projection: Linear | null }) {
    super();
    if ('vision' in options) {
      this.vision_model = this.addModule('vision_model', options.vision);
      if (options.projection) this.visual_projection = this.addModule('visual_projection', options.projection);
    } else {
      this.text_model = this.addModule('text_model', options.text);
      if (options.projection) this.text_projection = this.addModule('text_projection', options.projection);
    }
  }

  /** Width of the embeddings this tower gives. */
  get embedDim(): number {
    const projection = this.visual_projection ?? this.text_projection;
    if (projection) return projection.weight.shape[0] as number;
    return ((this.vision_model ?? this.text_model) as VisionEncoder | TextEncoder).config.dim;
  }

  /** Image embeddings [B, D]; unit length unless `normalize: false`. */
  encodeImage(images: tf.Tensor, options: { normalize?: boolean } = {}): tf.Tensor2D {
    const vision = this.vision_model;
    if (!vision) throw new TesseraError('E_INPUT', 'this model is a text tower only: it has no image encoder');
    return tf.tidy(() => {
      const pooled = vision.forward(images).pooled;
      const embeds = this.visual_projection ? this.visual_projection.forward(pooled) : pooled;
      return (options.normalize === false ? embeds : l2Normalize(embeds)) as tf.Tensor2D;
    });
  }

  /** Text embeddings [T, D] from ids [T, S] and mask [T, S]; unit length unless `normalize: false`. */
  encodeText(ids: tf.Tensor, mask?: tf.Tensor, options: { normalize?: boolean } = {}): tf.Tensor2D {
    const text = this.text_model;
    if (!text) throw new TesseraError('E_INPUT', 'this model is a vision tower only: it has no text encoder');
    return tf.tidy(() => {
      const pooled = text.forward(ids, mask).pooled;
      const embeds = this.text_projection ? this.text_projection.forward(pooled) : pooled;
      return (options.normalize === false ? embeds : l2Normalize(embeds)) as tf.Tensor2D;
    });
  }
}
