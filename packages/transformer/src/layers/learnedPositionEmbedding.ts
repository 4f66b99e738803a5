import { Module, parseConfig, tf } from '@tessera/core';
import { z } from 'zod';
import { InitSchemeSchema, initWeight, RngSchema } from '../init.js';
import { type PositionEmbedding, positionRows, tableRows } from './positionEmbedding.js';

export const LearnedPositionEmbeddingConfigSchema = z
  .object({
    maxPositions: z.number().int().positive(),
    dim: z.number().int().positive(),
    init: InitSchemeSchema.default('normal'),
    std: z.number().positive().default(0.02),
    rng: RngSchema,
  })
  .strict();
/** Config of LearnedPositionEmbedding: `maxPositions`, `dim` and `rng`, `init` (default normal) and `std` (default 0.02). */
export type LearnedPositionEmbeddingConfig = z.input<typeof LearnedPositionEmbeddingConfigSchema>;

/** A trained table `weight` [maxPositions, dim] (BERT, CLIP, ViT). */
export class LearnedPositionEmbedding extends Module implements PositionEmbedding {
  readonly maxPositions: number;
  readonly weight: tf.Variable;

  constructor(config: LearnedPositionEmbeddingConfig) {
    super();
    const c = parseConfig(LearnedPositionEmbeddingConfigSchema, config, 'LearnedPositionEmbedding config');
    this.maxPositions = c.maxPositions;
    this.weight = this.addParameter('weight', initWeight([c.maxPositions, c.dim], c.init, c.rng, c.std));
  }

  rows(length: number, offset = 0): tf.Tensor {
    return tableRows(this.weight, length, offset, this.maxPositions, 'LearnedPositionEmbedding');
  }

  /** x [..., S, dim] plus table rows `offset .. offset+S-1`; E_SHAPE past `maxPositions` or for another width. */
  forward(x: tf.Tensor, offset = 0): tf.Tensor {
    return tf.tidy(() => tf.add(x, positionRows(this.weight, x, offset, this.maxPositions, 'LearnedPositionEmbedding')));
  }
}
