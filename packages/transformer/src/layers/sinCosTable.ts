import { TesseraError, tf } from '@tessera/core';

/**
 * How a sin-cos table places the sines and cosines of a position's `dim / 2` frequencies
 * `w_i = 1 / 10000^(2i / dim)`: 'interleaved' (Vaswani et al., the PyTorch tutorial: `[2i]` sin,
 * `[2i+1]` cos) or 'halves' (MAE's `get_1d_sincos_pos_embed_from_grid`: all sines, then all cosines).
 */
export type SinCosLayout = 'interleaved' | 'halves';

/** The one sin-cos table: `positions.length * dim` values, row-major, in the given layout. */
function sinCosTable(dim: number, positions: ArrayLike<number>, layout: SinCosLayout): Float32Array {
  if (dim % 2 !== 0) throw new TesseraError('E_CONFIG', `sin-cos position embedding needs an even dim, got ${dim}`);
  const half = dim / 2;
  const out = new Float32Array(positions.length * dim);
  for (let m = 0; m < positions.length; m++) {
    const p = positions[m] as number;
    for (let i = 0; i < half; i++) {
      const angle = p / 10000 ** (i / half);
      const [sin, cos] = layout === 'interleaved' ? [2 * i, 2 * i + 1] : [i, half + i];
      out[m * dim + sin] = Math.sin(angle);
      out[m * dim + cos] = Math.cos(angle);
    }
  }
  return out;
}

/** The fixed table of Vaswani et al.: PE[p, 2i] = sin(p / 10000^(2i/d)), PE[p, 2i+1] = cos(same). */
export function sinusoidalTable(maxPositions: number, dim: number): Float32Array {
  return sinCosTable(
    dim,
    Array.from({ length: maxPositions }, (_, p) => p),
    'interleaved',
  );
}

/**
 * Fixed 1-D sin-cos embedding of positions, as in MAE's `get_1d_sincos_pos_embed_from_grid`:
 * for each position p, `[sin(p * w_0..w_{D/2-1}), cos(p * w_0..w_{D/2-1})]` with
 * `w_i = 1 / 10000^(i / (D/2))`. Returns `positions.length * dim` values, row-major.
 */
export function sincos1d(dim: number, positions: ArrayLike<number>): Float32Array {
  return sinCosTable(dim, positions, 'halves');
}

/**
 * Fixed 2-D sin-cos position embedding of a `gridH x gridW` patch grid, row-major, `[N * dim]`
 * values, exactly MAE's `get_2d_sincos_pos_embed` (its first half encodes the column, the
 * second half the row). `dim` must be a multiple of 4.
 */
export function sincos2d(dim: number, gridH: number, gridW: number): Float32Array {
  if (dim % 4 !== 0) throw new TesseraError('E_CONFIG', `2-D sin-cos position embedding needs dim divisible by 4, got ${dim}`);
  const n = gridH * gridW;
  const cols = Float32Array.from({ length: n }, (_, k) => k % gridW);
  const rows = Float32Array.from({ length: n }, (_, k) => Math.floor(k / gridW));
  const half = dim / 2;
  const embCols = sincos1d(half, cols);
  const embRows = sincos1d(half, rows);
  const out = new Float32Array(n * dim);
  for (let k = 0; k < n; k++) {
    out.set(embCols.subarray(k * half, (k + 1) * half), k * dim);
    out.set(embRows.subarray(k * half, (k + 1) * half), k * dim + half);
  }
  return out;
}

/**
 * A temporal position embedding for `frames` video frames, `[frames, dim]` (fixed 1-D sin-cos
 * of the frame index), to add to every patch token of a frame as in ViViT/TimeSformer-style
 * divided space-time embeddings.
 */
export function temporalPositionEmbedding(frames: number, dim: number): tf.Tensor2D {
  return tf.tensor2d(
    sincos1d(
      dim,
      Array.from({ length: frames }, (_, t) => t),
    ),
    [frames, dim],
  );
}
