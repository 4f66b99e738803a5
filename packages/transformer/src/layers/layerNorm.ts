import { fusedLayerNorm, Module, parseConfig, tf } from '@tessera/core';
import { z } from 'zod';
import { assertLastDim } from '../checks.js';

export const LayerNormConfigSchema = z
  .object({
    dim: z.number().int().positive(),
    eps: z.number().positive().default(1e-5),
  })
  .strict();
/** Config of LayerNorm: `dim`, and `eps` added to the variance (default 1e-5 as torch; BERT uses 1e-12). */
export type LayerNormConfig = z.input<typeof LayerNormConfigSchema>;

/** torch.nn.LayerNorm over the last axis: biased variance, `weight` ones and `bias` zeros. */
export class LayerNorm extends Module {
  readonly dim: number;
  readonly eps: number;
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(config: LayerNormConfig) {
    super();
    const c = parseConfig(LayerNormConfigSchema, config, 'LayerNorm config');
    this.dim = c.dim;
    this.eps = c.eps;
    this.weight = this.addParameter('weight', tf.ones([c.dim]));
    this.bias = this.addParameter('bias', tf.zeros([c.dim]));
  }

  /** Normalises x [..., dim] over its last axis, then scales and shifts; E_SHAPE when that axis is not `dim`. */
  forward(x: tf.Tensor): tf.Tensor {
    assertLastDim(x, this.dim, 'LayerNorm');
    // One native kernel each way with @tessera/native, the same math in tfjs ops otherwise.
    return fusedLayerNorm(x, this.weight, this.bias, this.eps);
  }
}
