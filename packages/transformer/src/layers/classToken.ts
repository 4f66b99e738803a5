import { Module, parseConfig, tf } from '@tessera/core';
import { z } from 'zod';
import { assertLastDim, assertRank } from '../checks.js';
import { InitSchemeSchema, initWeight, RngSchema } from '../init.js';

export const ClassTokenConfigSchema = z
  .object({
    dim: z.number().int().positive(),
    init: InitSchemeSchema.default('normal'),
    std: z.number().positive().default(0.02),
    rng: RngSchema,
  })
  .strict();
/** Config of ClassToken: `dim` and `rng`, `init` (default normal) and `std` (default 0.02). */
export type ClassTokenConfig = z.input<typeof ClassTokenConfigSchema>;

/** A learned `class_embedding` [dim] prepended to every sequence: [B, N, dim] -> [B, N+1, dim]. */
export class ClassToken extends Module {
  readonly weight: tf.Variable;

  constructor(config: ClassTokenConfig) {
    super();
    const c = parseConfig(ClassTokenConfigSchema, config, 'ClassToken config');
    this.weight = this.addParameter('class_embedding', initWeight([c.dim], c.init, c.rng, c.std));
  }

  /** [B, N, dim] -> [B, N+1, dim], the class token first; E_SHAPE for another rank or width. */
  forward(x: tf.Tensor): tf.Tensor {
    assertRank(x, 3, 'ClassToken', '[batch, tokens, dim]');
    assertLastDim(x, this.weight.shape[0] as number, 'ClassToken');
    return tf.tidy(() => {
      const [batch, , dim] = x.shape as [number, number, number];
      const cls = tf.broadcastTo(tf.reshape(this.weight, [1, 1, dim]), [batch, 1, dim]);
      return tf.concat([cls, x], 1);
    });
  }
}
