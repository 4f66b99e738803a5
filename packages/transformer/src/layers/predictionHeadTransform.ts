import { Module, parseConfig, tf } from '@tessera/core';
import { z } from 'zod';
import { InitSchemeSchema, RngSchema } from '../init.js';
import { ACTIVATIONS, activation } from './activations.js';
import { LayerNorm } from './layerNorm.js';
import { Linear } from './linear.js';

export const PredictionHeadTransformConfigSchema = z
  .object({
    dim: z.number().int().positive(),
    activation: z.enum(ACTIVATIONS).default('gelu'),
    layerNormEps: z.number().positive().default(1e-12),
    init: InitSchemeSchema.default('normal'),
    std: z.number().positive().default(0.02),
    rng: RngSchema,
  })
  .strict();
/**
 * Config of PredictionHeadTransform: `dim` and `rng`; `activation` (default gelu), `layerNormEps`
 * (default 1e-12, BERT's), `init` (default normal) and `std` (0.02).
 */
export type PredictionHeadTransformConfig = z.input<typeof PredictionHeadTransformConfigSchema>;

/**
 * BERT's language-model head transform, applied to the last hidden states before the output
 * projection: `dense` (dim -> dim), the activation, then `layer_norm` (Hugging Face
 * `cls.predictions.transform.{dense,LayerNorm}`; BLIP's text decoder has it).
 */
export class PredictionHeadTransform extends Module {
  readonly dense: Linear;
  readonly layer_norm: LayerNorm;
  private readonly activation: (typeof ACTIVATIONS)[number];

  constructor(config: PredictionHeadTransformConfig) {
    super();
    const c = parseConfig(PredictionHeadTransformConfigSchema, config, 'PredictionHeadTransform config');
    this.activation = c.activation;
    this.dense = this.addModule('dense', new Linear({ inFeatures: c.dim, outFeatures: c.dim, init: c.init, std: c.std, rng: c.rng }));
    this.layer_norm = this.addModule('layer_norm', new LayerNorm({ dim: c.dim, eps: c.layerNormEps }));
  }

  /** x [..., dim] -> layer_norm(activation(dense(x))), [..., dim]. */
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      // As MLP: GELU and ReLU run inside the dense layer's fused kernel, quick_gelu after it.
      const h = this.activation === 'quick_gelu' ? activation('quick_gelu')(this.dense.forward(x)) : this.dense.forward(x, this.activation);
      return this.layer_norm.forward(h);
    });
  }
}
