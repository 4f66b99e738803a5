import { TesseraError, tf } from '@tessera/core';

/**
 * Checks a positives mask [N, M] (1 where image i and text j match) and returns it as float32.
 * Without one, pair i matches only text i, which needs N == M. Every row and every column needs
 * at least one positive when `requireEach` (softmax losses: otherwise the target is undefined);
 * sigmoid losses accept rows or columns of negatives only.
 */
export function resolvePositives(
  positives: tf.Tensor | undefined,
  rows: number,
  cols: number,
  what: string,
  requireEach = true,
): tf.Tensor2D {
  if (positives === undefined) {
    expectDiagonalPositives(rows, cols, what);
    return tf.eye(rows) as tf.Tensor2D;
  }
  readPositives(positives, rows, cols, what, requireEach);
  return tf.cast(positives, 'float32') as tf.Tensor2D;
}

/** Throws E_INPUT unless the default positives (the diagonal) apply: as many images as texts. */
export function expectDiagonalPositives(rows: number, cols: number, what: string): void {
  if (rows !== cols) {
    throw new TesseraError(
      'E_INPUT',
      `${what}: ${rows} images and ${cols} texts need a positives mask [${rows}, ${cols}] saying which pairs match`,
    );
  }
}

/**
 * The checks of `resolvePositives` on a given mask, returning its values row-major (0 or 1), for
 * losses that build their targets and metrics on the CPU.
 */
export function readPositives(positives: tf.Tensor, rows: number, cols: number, what: string, requireEach = true): Float32Array {
  if (positives.rank !== 2 || positives.shape[0] !== rows || positives.shape[1] !== cols) {
    throw new TesseraError('E_INPUT', `${what}: positives must be [${rows}, ${cols}], got [${positives.shape.join(', ')}]`);
  }
  const values = Float32Array.from(positives.dataSync());
  const rowHas = new Array<boolean>(rows).fill(false);
  const colHas = new Array<boolean>(cols).fill(false);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const v = values[i * cols + j] as number;
      if (v !== 0 && v !== 1) throw new TesseraError('E_INPUT', `${what}: positives must hold 0 or 1, found ${v}`);
      if (v === 1) {
        rowHas[i] = true;
        colHas[j] = true;
      }
    }
  }
  const emptyRow = rowHas.indexOf(false);
  const emptyCol = colHas.indexOf(false);
  if (requireEach && (emptyRow >= 0 || emptyCol >= 0)) {
    const which = emptyRow >= 0 ? `image ${emptyRow}` : `text ${emptyCol}`;
    throw new TesseraError('E_INPUT', `${what}: ${which} has no positive in the positives mask; every image and text needs one`);
  }
  return values;
}

/**
 * A positives mask [N, M] from ids: 1 where `imageIds[i] === textIds[j]`. For several captions
 * per image, give each caption the id (e.g. index) of its image.
 */
export function positivesFromIds(imageIds: ArrayLike<number>, textIds: ArrayLike<number>): tf.Tensor2D {
  const n = imageIds.length;
  const m = textIds.length;
  const mask = new Float32Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) mask[i * m + j] = imageIds[i] === textIds[j] ? 1 : 0;
  return tf.tensor2d(mask, [n, m]);
}
