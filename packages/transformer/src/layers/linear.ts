import { fusedLinear, type LinearActivation, Module, parseConfig, tf } from '@tessera/core';
import { z } from 'zod';
import { assertLastDim } from '../checks.js';
import { InitSchemeSchema, initWeight, RngSchema } from '../init.js';

export const LinearConfigSchema = z
  .object({
    inFeatures: z.number().int().positive(),
    outFeatures: z.number().int().positive(),
    bias: z.boolean().default(true),
    /** torch.nn.Linear's default is kaiming_uniform (weight and bias uniform in ±1/sqrt(in)). */
    init: InitSchemeSchema.default('kaiming_uniform'),
    /** Standard deviation for the 'normal' and 'trunc_normal' schemes. */
    std: z.number().positive().default(0.02),
    rng: RngSchema,
  })
  .strict();
/** Config of Linear: `inFeatures`, `outFeatures` and `rng`, `bias` (default true), `init` (default kaiming_uniform) and `std`. */
export type LinearConfig = z.input<typeof LinearConfigSchema>;

/**
 * y = x W^T + b over the last axis, any leading dims, as torch.nn.Linear:
 * `weight` is [out, in], `bias` [out]. With kaiming_uniform the bias is uniform like torch's;
 * with every other scheme it starts at zero (BERT/ViT practice).
 */
export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | null;

  constructor(config: LinearConfig) {
    super();
    const c = parseConfig(LinearConfigSchema, config, 'Linear config');
    this.inFeatures = c.inFeatures;
    this.outFeatures = c.outFeatures;
    this.weight = this.addParameter('weight', initWeight([c.outFeatures, c.inFeatures], c.init, c.rng, c.std));
    this.bias = null;
    if (c.bias) {
      const bound = 1 / Math.sqrt(c.inFeatures);
      const initial =
        c.init === 'kaiming_uniform'
          ? tf.tensor(
              c.rng.array(c.outFeatures, (r) => r.uniform(-bound, bound)),
              [c.outFeatures],
            )
          : tf.zeros([c.outFeatures]);
      this.bias = this.addParameter('bias', initial);
    }
  }

  /** y = act(x W^T + b); one native kernel each way with @tessera/native (bias and activation fused into the product). */
  forward(x: tf.Tensor, activation: LinearActivation = 'linear'): tf.Tensor {
    assertLastDim(x, this.inFeatures, 'Linear');
    return fusedLinear(x, this.weight, this.bias, activation);
  }
}
