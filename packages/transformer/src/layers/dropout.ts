import { Module, parseConfig, tf } from '@tessera/core';
import { z } from 'zod';
import { RngSchema } from '../init.js';

export const DropoutConfigSchema = z
  .object({
    /** Probability of zeroing an element; survivors are scaled by 1/(1-p) as in torch. */
    p: z.number().min(0).lt(1).default(0),
    rng: RngSchema,
  })
  .strict();
/** Config of Dropout: `p` (default 0) and `rng`, the generator its masks are drawn from. */
export type DropoutConfig = z.input<typeof DropoutConfigSchema>;

/** Inverted dropout with masks drawn from a SeededRandom (reproducible); identity in eval mode or at p = 0. */
export class Dropout extends Module {
  readonly p: number;
  private readonly rng: DropoutConfig['rng'];

  constructor(config: DropoutConfig) {
    super();
    const c = parseConfig(DropoutConfigSchema, config, 'Dropout config');
    this.p = c.p;
    this.rng = c.rng;
  }

  /** Returns `x` itself (not a copy) when nothing is dropped. */
  forward(x: tf.Tensor): tf.Tensor {
    if (!this.training || this.p === 0) return x;
    const keep = 1 / (1 - this.p);
    const p = this.p;
    const mask = this.rng.array(x.size, (r) => (r.next() < p ? 0 : keep));
    return tf.tidy(() => tf.mul(x, tf.tensor(mask, x.shape, 'float32')));
  }
}
