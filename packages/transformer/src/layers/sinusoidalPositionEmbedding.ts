import { Module, parseConfig, tf } from '@tessera/core';
import { z } from 'zod';
import { type PositionEmbedding, positionRows, tableRows } from './positionEmbedding.js';
import { sinusoidalTable } from './sinCosTable.js';

export const SinusoidalPositionEmbeddingConfigSchema = z
  .object({ maxPositions: z.number().int().positive(), dim: z.number().int().positive().multipleOf(2) })
  .strict();
/** Config of SinusoidalPositionEmbedding: `maxPositions` and an even `dim` (sines and cosines interleaved, as Vaswani et al.). */
export type SinusoidalPositionEmbeddingConfig = z.input<typeof SinusoidalPositionEmbeddingConfigSchema>;

/** Fixed sinusoidal positions; no parameters (nothing to save). */
export class SinusoidalPositionEmbedding extends Module implements PositionEmbedding {
  readonly maxPositions: number;
  private readonly table: tf.Tensor;

  constructor(config: SinusoidalPositionEmbeddingConfig) {
    super();
    const c = parseConfig(SinusoidalPositionEmbeddingConfigSchema, config, 'SinusoidalPositionEmbedding config');
    this.maxPositions = c.maxPositions;
    this.table = tf.keep(tf.tensor(sinusoidalTable(c.maxPositions, c.dim), [c.maxPositions, c.dim]));
  }

  rows(length: number, offset = 0): tf.Tensor {
    return tableRows(this.table, length, offset, this.maxPositions, 'SinusoidalPositionEmbedding');
  }

  /** x [..., S, dim] plus table rows `offset .. offset+S-1`; E_SHAPE past `maxPositions` or for another width. */
  forward(x: tf.Tensor, offset = 0): tf.Tensor {
    return tf.tidy(() => tf.add(x, positionRows(this.table, x, offset, this.maxPositions, 'SinusoidalPositionEmbedding')));
  }

  override dispose(): void {
    this.table.dispose();
    super.dispose();
  }
}
