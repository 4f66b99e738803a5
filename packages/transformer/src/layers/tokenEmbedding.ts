import { Module, parseConfig, TesseraError, tf } from '@tessera/core';
import { z } from 'zod';
import { InitSchemeSchema, initWeight, RngSchema } from '../init.js';

export const TokenEmbeddingConfigSchema = z
  .object({
    vocabSize: z.number().int().positive(),
    dim: z.number().int().positive(),
    /** torch.nn.Embedding draws N(0, 1); BERT/CLIP use N(0, 0.02). */
    init: InitSchemeSchema.default('normal'),
    std: z.number().positive().default(0.02),
    rng: RngSchema,
  })
  .strict();
/** Config of TokenEmbedding: `vocabSize`, `dim` and `rng`, `init` (default normal) and `std` (default 0.02). */
export type TokenEmbeddingConfig = z.input<typeof TokenEmbeddingConfigSchema>;

/** A lookup table `weight` `[vocab, dim]`: ids of any shape -> [...ids.shape, dim]. */
export class TokenEmbedding extends Module {
  readonly vocabSize: number;
  readonly dim: number;
  readonly weight: tf.Variable;

  constructor(config: TokenEmbeddingConfig) {
    super();
    const c = parseConfig(TokenEmbeddingConfigSchema, config, 'TokenEmbedding config');
    this.vocabSize = c.vocabSize;
    this.dim = c.dim;
    this.weight = this.addParameter('weight', initWeight([c.vocabSize, c.dim], c.init, c.rng, c.std));
  }

  /** Out-of-range ids are an E_INPUT error (tfjs would silently read garbage or zeros). */
  forward(ids: tf.Tensor): tf.Tensor {
    if (ids.dtype !== 'int32') throw new TesseraError('E_INPUT', `TokenEmbedding: ids must be int32, got ${ids.dtype}`);
    const values = ids.dataSync();
    for (let i = 0; i < values.length; i++) {
      const id = values[i] as number;
      if (id < 0 || id >= this.vocabSize) {
        throw new TesseraError(
          'E_INPUT',
          `TokenEmbedding: token id ${id} is outside [0, ${this.vocabSize}); check the tokenizer's vocabulary size`,
        );
      }
    }
    return tf.gather(this.weight, ids);
  }
}
