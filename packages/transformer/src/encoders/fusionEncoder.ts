import { Module, parseConfig, tf } from '@tessera/core';
import { z } from 'zod';
import { blockSettings, STACK_CONFIG_FIELDS, TransformerStack } from '../blocks/transformerStack.js';
import { assertLastDim, assertRank } from '../checks.js';
import { InitSchemeSchema } from '../init.js';
import { LayerNorm } from '../layers/layerNorm.js';
import type { EncoderOutput } from './encoderOutput.js';

export const FusionEncoderConfigSchema = z
  .object({
    ...STACK_CONFIG_FIELDS,
    /** Width of the image (or video) tokens attended to (default dim). */
    crossDim: z.number().int().positive().optional(),
    /** ALBEF uses BERT's post-LN layers. */
    norm: z.enum(['pre', 'post']).default('post'),
    init: InitSchemeSchema.default('normal'),
  })
  .strict();
/**
 * Config of FusionEncoder: the stack's `dim`, `numHeads`, `numLayers` and `rng` (`mlpDim`,
 * `activation`, dropouts, `layerNormEps`, `std` optional), `crossDim`; defaults post-LN and
 * `init` normal, as ALBEF. E_CONFIG when invalid.
 */
export type FusionEncoderConfig = z.input<typeof FusionEncoderConfigSchema>;

/** What `FusionEncoder.forward` takes: text states and the image tokens they attend to. */
export interface FusionInputs {
  /** Text states [B, S, dim], e.g. a TextEncoder's `hidden`. */
  text: tf.Tensor;
  /** [B, S] 1 = token, 0 = padding. */
  textMask?: tf.Tensor;
  /** Image or video tokens [B, N, crossDim]. */
  image: tf.Tensor;
  /** [B, N] 1 = token, 0 = padding. */
  imageMask?: tf.Tensor;
}

/**
 * ALBEF's multimodal encoder: text layers (bidirectional self-attention) with cross-attention
 * to image tokens between self-attention and MLP. Names `layers.N.*` (+ `final_layer_norm`
 * when pre-LN). Pooled output: the first ([CLS]) token, as ALBEF's ITM head reads it.
 */
export class FusionEncoder extends Module {
  readonly config: z.output<typeof FusionEncoderConfigSchema>;
  readonly encoder: TransformerStack;
  readonly final_layer_norm: LayerNorm | null = null;

  constructor(config: FusionEncoderConfig) {
    super();
    const c = parseConfig(FusionEncoderConfigSchema, config, 'FusionEncoder config');
    this.config = c;
    this.encoder = this.addModule(
      'encoder',
      new TransformerStack(c.numLayers, {
        ...blockSettings(c),
        crossAttention: true,
        crossDim: c.crossDim ?? c.dim,
        rng: c.rng.fork('fusion'),
      }),
    );
    if (c.norm === 'pre') this.final_layer_norm = this.addModule('final_layer_norm', new LayerNorm({ dim: c.dim, eps: c.layerNormEps }));
  }

  /**
   * Text [B, S, dim] attending to image tokens [B, N, crossDim] -> `hidden` [B, S, dim], `pooled`
   * [B, dim] (the first token) and `mask` (the text mask, when given). E_SHAPE for other ranks or widths.
   */
  forward(inputs: FusionInputs): EncoderOutput {
    assertRank(inputs.text, 3, 'FusionEncoder', 'of text states [batch, length, dim]');
    assertRank(inputs.image, 3, 'FusionEncoder', 'of image tokens [batch, tokens, crossDim]');
    assertLastDim(inputs.image, this.config.crossDim ?? this.config.dim, 'FusionEncoder image');
    return tf.tidy(() => {
      let hidden = this.encoder.forward(inputs.text, {
        mask: inputs.textMask,
        encoderStates: inputs.image,
        encoderMask: inputs.imageMask,
      }).hidden;
      if (this.final_layer_norm) hidden = this.final_layer_norm.forward(hidden);
      const [batch, , dim] = hidden.shape as [number, number, number];
      const pooled = tf.reshape(tf.slice(hidden, [0, 0, 0], [batch, 1, dim]), [batch, dim]);
      return { hidden, pooled, ...(inputs.textMask ? { mask: inputs.textMask } : {}) } as unknown as tf.TensorContainer;
    }) as unknown as EncoderOutput;
  }
}
