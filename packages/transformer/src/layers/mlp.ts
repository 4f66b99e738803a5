import { Module, parseConfig, tf } from '@tessera/core';
import { z } from 'zod';
import { InitSchemeSchema, RngSchema } from '../init.js';
import { ACTIVATIONS } from './activations.js';
import { Dropout } from './dropout.js';
import { Linear } from './linear.js';

export const MLPConfigSchema = z
  .object({
    dim: z.number().int().positive(),
    hiddenDim: z.number().int().positive(),
    activation: z.enum(ACTIVATIONS).default('gelu'),
    dropout: z.number().min(0).lt(1).default(0),
    init: InitSchemeSchema.default('kaiming_uniform'),
    std: z.number().positive().default(0.02),
    rng: RngSchema,
  })
  .strict();
/**
 * Config of MLP: `dim`, `hiddenDim` (fc1's output width; Transformer blocks use 4 x dim) and
 * `rng`; `activation` (default gelu), `dropout` (0), `init` (kaiming_uniform) and `std` (0.02).
 */
export type MLPConfig = z.input<typeof MLPConfigSchema>;

/** The Transformer feed-forward: fc1 -> activation -> fc2 -> dropout (names as Hugging Face CLIP). */
export class MLP extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;
  private readonly activation: (typeof ACTIVATIONS)[number];
  private readonly drop: Dropout;

  constructor(config: MLPConfig) {
    super();
    const c = parseConfig(MLPConfigSchema, config, 'MLP config');
    const common = { init: c.init, std: c.std, rng: c.rng };
    this.fc1 = this.addModule('fc1', new Linear({ inFeatures: c.dim, outFeatures: c.hiddenDim, ...common }));
    this.fc2 = this.addModule('fc2', new Linear({ inFeatures: c.hiddenDim, outFeatures: c.dim, ...common }));
    this.activation = c.activation;
    this.drop = this.addModule('dropout', new Dropout({ p: c.dropout, rng: c.rng.fork('mlp-dropout') }));
  }

  /** x [..., dim] -> [..., dim]; the dropout acts in training mode only. */
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      // The activation runs inside fc1's fused kernel.
      return this.drop.forward(this.fc2.forward(this.fc1.forward(x, this.activation)));
    });
  }
}
