import { Module, parseConfig, tf } from '@tessera/core';
import { z } from 'zod';
import { assertLastDim, shapeError } from '../checks.js';
import { InitSchemeSchema, initWeight, RngSchema } from '../init.js';

export const LearnedPositionEmbeddingConfigSchema = z
  .object({
    maxPositions: z.number().int().positive(),
    dim: z.number().int().positive(),
    init: InitSchemeSchema.default('normal'),
    std: z.number().positive().default(0.02),
    rng: RngSchema,
  })
  .strict();
export type LearnedPositionEmbeddingConfig = z.input<typeof LearnedPositionEmbeddingConfigSchema>;

/** Adds positions `offset .. offset+S-1` of a table to [B, S, dim] (offset: tokens already in a KV cache). */
export interface PositionEmbedding extends Module {
  readonly maxPositions: number;
  forward(x: tf.Tensor, offset?: number): tf.Tensor;
  /** Rows `offset .. offset+length-1` of the table, [length, dim]. */
  rows(length: number, offset?: number): tf.Tensor;
}

function rowsFor(table: tf.Tensor, x: tf.Tensor, offset: number, maxPositions: number, who: string): tf.Tensor {
  assertLastDim(x, table.shape[1] as number, who);
  if (x.rank < 2) throw shapeError(who, `expected [..., positions, dim], got [${x.shape.join(', ')}]`);
  return slice(table, x.shape[x.rank - 2] as number, offset, maxPositions, who);
}

function slice(table: tf.Tensor, length: number, offset: number, maxPositions: number, who: string): tf.Tensor {
  if (offset < 0 || offset + length > maxPositions) {
    throw shapeError(who, `positions ${offset}..${offset + length - 1} exceed the table of ${maxPositions}; raise maxPositions`);
  }
  return tf.slice(table, [offset, 0], [length, table.shape[1] as number]);
}

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
    return slice(this.weight, length, offset, this.maxPositions, 'LearnedPositionEmbedding');
  }

  forward(x: tf.Tensor, offset = 0): tf.Tensor {
    return tf.tidy(() => tf.add(x, rowsFor(this.weight, x, offset, this.maxPositions, 'LearnedPositionEmbedding')));
  }
}

export const SinusoidalPositionEmbeddingConfigSchema = z
  .object({ maxPositions: z.number().int().positive(), dim: z.number().int().positive().multipleOf(2) })
  .strict();
export type SinusoidalPositionEmbeddingConfig = z.input<typeof SinusoidalPositionEmbeddingConfigSchema>;

/** The fixed table of Vaswani et al.: PE[p, 2i] = sin(p / 10000^(2i/d)), PE[p, 2i+1] = cos(same). */
export function sinusoidalTable(maxPositions: number, dim: number): Float32Array {
  const table = new Float32Array(maxPositions * dim);
  for (let p = 0; p < maxPositions; p++) {
    for (let i = 0; i < dim / 2; i++) {
      const angle = p / 10000 ** ((2 * i) / dim);
      table[p * dim + 2 * i] = Math.sin(angle);
      table[p * dim + 2 * i + 1] = Math.cos(angle);
    }
  }
  return table;
}

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
    return slice(this.table, length, offset, this.maxPositions, 'SinusoidalPositionEmbedding');
  }

  forward(x: tf.Tensor, offset = 0): tf.Tensor {
    return tf.tidy(() => tf.add(x, rowsFor(this.table, x, offset, this.maxPositions, 'SinusoidalPositionEmbedding')));
  }

  override dispose(): void {
    this.table.dispose();
    super.dispose();
  }
}
