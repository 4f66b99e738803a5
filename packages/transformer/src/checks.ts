import { TesseraError, type tf } from '@tessera/core';

/** Shape problems are caller errors: E_SHAPE names the layer, what it expected and what it got. */
export function shapeError(who: string, what: string): TesseraError {
  return new TesseraError('E_SHAPE', `${who}: ${what}; check the input against the layer's config`);
}

export function assertLastDim(x: tf.Tensor, expected: number, who: string): void {
  if (x.rank < 1 || x.shape[x.rank - 1] !== expected) {
    throw shapeError(who, `expected the last dimension to be ${expected}, got shape [${x.shape.join(', ')}]`);
  }
}

export function assertRank(x: tf.Tensor, rank: number, who: string, layout: string): void {
  if (x.rank !== rank) throw shapeError(who, `expected a rank-${rank} tensor ${layout}, got shape [${x.shape.join(', ')}]`);
}
