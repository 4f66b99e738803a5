import { type Module, tf } from '@tessera/core';
import { assertLastDim, shapeError } from '../checks.js';

/** Adds positions `offset .. offset+S-1` of a table to [B, S, dim] (offset: tokens already in a KV cache). */
export interface PositionEmbedding extends Module {
  /** Rows in the table: positions beyond it (cache included) are an E_SHAPE error. */
  readonly maxPositions: number;
  /** x [..., S, dim] plus table rows `offset .. offset+S-1` (offset default 0). */
  forward(x: tf.Tensor, offset?: number): tf.Tensor;
  /** Rows `offset .. offset+length-1` of the table, [length, dim]. */
  rows(length: number, offset?: number): tf.Tensor;
}

/** The table rows matching the positions of x [..., S, dim], checked. */
export function positionRows(table: tf.Tensor, x: tf.Tensor, offset: number, maxPositions: number, who: string): tf.Tensor {
  assertLastDim(x, table.shape[1] as number, who);
  if (x.rank < 2) throw shapeError(who, `expected [..., positions, dim], got [${x.shape.join(', ')}]`);
  return tableRows(table, x.shape[x.rank - 2] as number, offset, maxPositions, who);
}

/** Rows `offset .. offset+length-1` of a [maxPositions, dim] table, or E_SHAPE past its end. */
export function tableRows(table: tf.Tensor, length: number, offset: number, maxPositions: number, who: string): tf.Tensor {
  if (offset < 0 || offset + length > maxPositions) {
    throw shapeError(who, `positions ${offset}..${offset + length - 1} exceed the table of ${maxPositions}; raise maxPositions`);
  }
  return tf.slice(table, [offset, 0], [length, table.shape[1] as number]);
}
