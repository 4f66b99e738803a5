import { TesseraError } from '@tessera/core';

/**
 * Pillow's resampling filters by their integer codes (`PIL.Image.Resampling`), which is what
 * Hugging Face image processors store under `resample`.
 */
export const PIL_RESAMPLE = { nearest: 0, lanczos: 1, bilinear: 2, bicubic: 3, box: 4, hamming: 5 } as const;
/** A Pillow resampling filter by name: 'nearest', 'lanczos', 'bilinear', 'bicubic', 'box' or 'hamming'. */
export type ResampleFilter = keyof typeof PIL_RESAMPLE;

interface Filter {
  support: number;
  weight(x: number): number;
}

const sinc = (x: number) => (x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x));

// Transcribed from Pillow's src/libImaging/Resample.c.
const FILTERS: Record<Exclude<ResampleFilter, 'nearest'>, Filter> = {
  box: { support: 0.5, weight: (x) => (x > -0.5 && x <= 0.5 ? 1 : 0) },
  bilinear: { support: 1, weight: (x) => (Math.abs(x) < 1 ? 1 - Math.abs(x) : 0) },
  hamming: {
    support: 1,
    weight: (x) => {
      const a = Math.abs(x);
      if (a === 0) return 1;
      if (a >= 1) return 0;
      return (Math.sin(a * Math.PI) / (a * Math.PI)) * (0.54 + 0.46 * Math.cos(a * Math.PI));
    },
  },
  bicubic: {
    support: 2,
    weight: (x) => {
      const a = Math.abs(x);
      if (a < 1) return (1.5 * a - 2.5) * a * a + 1;
      if (a < 2) return (((a - 5) * a + 8) * a - 4) * -0.5;
      return 0;
    },
  },
  lanczos: { support: 3, weight: (x) => (x > -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0) },
};

/** Fixed-point precision of Pillow's 8-bit resampler. */
const PRECISION_BITS = 32 - 8 - 2;
const HALF = 1 << (PRECISION_BITS - 1);
const CLIP_HIGH = 255 * 2 ** PRECISION_BITS;

interface Coefficients {
  /** Taps per output sample (some trailing ones are zero). */
  ksize: number;
  /** First input index and tap count per output sample. */
  bounds: Int32Array;
  /** Integer weights, `ksize` per output sample. */
  weights: Int32Array;
}

/** Pillow's `precompute_coeffs` + `normalize_coeffs_8bpc` (whole input: box [0, inSize)). */
function coefficients(inSize: number, outSize: number, filter: Filter): Coefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filter.support * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const weights = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let total = 0;
    for (let x = 0; x < xmax; x++) {
      k[x] = filter.weight((x + xmin - center + 0.5) / filterScale);
      total += k[x] as number;
    }
    for (let x = 0; x < xmax; x++) {
      const w = total === 0 ? (k[x] as number) : (k[x] as number) / total;
      weights[xx * ksize + x] = Math.trunc(w < 0 ? -0.5 + w * 2 ** PRECISION_BITS : 0.5 + w * 2 ** PRECISION_BITS);
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, bounds, weights };
}

function clip8(v: number): number {
  if (v >= CLIP_HIGH) return 255;
  if (v <= 0) return 0;
  return v >> PRECISION_BITS;
}

/** Output pixels to compute, [left, top, right, bottom) in output coordinates (a crop of the result). */
export type OutputWindow = [number, number, number, number];

/**
 * 8-bit pixels, interleaved and row-major (HWC), as decoding gives them and resizing and
 * cropping take them. Decoded images have 3 channels; `resample` takes any count.
 */
export interface RgbImage {
  /** Interleaved 8-bit samples, row-major, `channels` per pixel. */
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

/**
 * Resizes 8-bit interleaved pixels exactly as Pillow's `Image.resize(size, resample)` does
 * for 'RGB'/'L' images (two separable fixed-point passes, the filter widened by the scale when
 * shrinking), so preprocessing matches Hugging Face's PIL-based image processors bit for bit.
 * With `window`, only that part of the output is computed (resize then crop, in one step).
 */
export function resample(
  image: RgbImage,
  width: number,
  height: number,
  filter: ResampleFilter,
  window: OutputWindow = [0, 0, width, height],
): RgbImage {
  if (!(width > 0 && height > 0 && Number.isInteger(width) && Number.isInteger(height))) {
    throw new TesseraError('E_INPUT', `resample: target size ${width}x${height} must be positive integers`);
  }
  const [wx0, wy0, wx1, wy1] = window;
  if (!(wx0 >= 0 && wy0 >= 0 && wx1 <= width && wy1 <= height && wx1 > wx0 && wy1 > wy0)) {
    throw new TesseraError('E_INPUT', `resample: window [${window}] is not inside the ${width}x${height} output`);
  }
  if (filter === 'nearest') return nearest(image, width, height, window);
  const spec = FILTERS[filter];
  if (!spec) throw new TesseraError('E_CONFIG', `unknown resampling filter "${filter}"`);
  const horiz = width !== image.width ? coefficients(image.width, width, spec) : identity(width);
  const vert = height !== image.height ? coefficients(image.height, height, spec) : identity(height);
  // Only the source rows that the vertical pass reads for the window's rows.
  const first = vert.bounds[wy0 * 2] as number;
  const last = (vert.bounds[(wy1 - 1) * 2] as number) + (vert.bounds[(wy1 - 1) * 2 + 1] as number);
  const rows = horizontalPass(image, horiz, wx0, wx1, first, last);
  return verticalPass(rows, vert, wy0, wy1, first);
}

/** Pass-through coefficients: output i reads input i with weight 1. */
function identity(size: number): Coefficients {
  const bounds = new Int32Array(size * 2);
  for (let i = 0; i < size; i++) {
    bounds[i * 2] = i;
    bounds[i * 2 + 1] = 1;
  }
  return { ksize: 1, bounds, weights: new Int32Array(size).fill(1 << PRECISION_BITS) };
}

/**
 * Columns [c0, c1) of the horizontal pass over source rows [r0, r1), written transposed
 * (column-major) so that the vertical pass reads its taps contiguously.
 */
function horizontalPass(src: RgbImage, c: Coefficients, c0: number, c1: number, r0: number, r1: number): RgbImage {
  const ch = src.channels;
  const outWidth = c1 - c0;
  const rows = r1 - r0;
  const out = new Uint8Array(outWidth * rows * ch);
  const { ksize, bounds, weights } = c;
  const inData = src.data;
  const rowLength = src.width * ch;
  const columnStride = rows * ch;
  for (let yy = 0; yy < rows; yy++) {
    const rowStart = (yy + r0) * rowLength;
    for (let xx = c0; xx < c1; xx++) {
      const xmin = bounds[xx * 2] as number;
      const xmax = bounds[xx * 2 + 1] as number;
      const k0 = xx * ksize;
      convolveRun(inData, rowStart + xmin * ch, ch, weights, k0, xmax, out, (xx - c0) * columnStride + yy * ch);
    }
  }
  // Transposed: `width` counts source rows, `height` output columns.
  return { data: out, width: rows, height: outWidth, channels: ch };
}

/**
 * One output pixel of either pass: the fixed-point weighted sum of `count` consecutive pixels
 * of `input` from byte `p`, written to `out` at byte `o` (both passes read along a contiguous run,
 * the vertical one thanks to the transposed horizontal result).
 */
function convolveRun(
  input: Uint8Array,
  p: number,
  ch: number,
  weights: Int32Array,
  k0: number,
  count: number,
  out: Uint8Array,
  o: number,
): void {
  if (ch === 3) {
    let s0 = HALF;
    let s1 = HALF;
    let s2 = HALF;
    for (let i = 0; i < count; i++, p += 3) {
      const w = weights[k0 + i] as number;
      s0 = (s0 + Math.imul(input[p] as number, w)) | 0;
      s1 = (s1 + Math.imul(input[p + 1] as number, w)) | 0;
      s2 = (s2 + Math.imul(input[p + 2] as number, w)) | 0;
    }
    out[o] = clip8(s0);
    out[o + 1] = clip8(s1);
    out[o + 2] = clip8(s2);
    return;
  }
  for (let k = 0; k < ch; k++) {
    let sum = HALF;
    for (let i = 0, q = p + k; i < count; i++, q += ch) sum = (sum + Math.imul(input[q] as number, weights[k0 + i] as number)) | 0;
    out[o + k] = clip8(sum);
  }
}

/** Rows [r0, r1) of the vertical pass over a transposed horizontal result holding rows from `firstRow` on. */
function verticalPass(src: RgbImage, c: Coefficients, r0: number, r1: number, firstRow: number): RgbImage {
  const ch = src.channels;
  const columns = src.height;
  const columnStride = src.width * ch;
  const outRows = r1 - r0;
  const out = new Uint8Array(columns * outRows * ch);
  const { ksize, bounds, weights } = c;
  const inData = src.data;
  for (let x = 0; x < columns; x++) {
    const columnStart = x * columnStride;
    for (let yy = r0; yy < r1; yy++) {
      const ymin = (bounds[yy * 2] as number) - firstRow;
      const ymax = bounds[yy * 2 + 1] as number;
      const k0 = yy * ksize;
      convolveRun(inData, columnStart + ymin * ch, ch, weights, k0, ymax, out, ((yy - r0) * columns + x) * ch);
    }
  }
  return { data: out, width: columns, height: outRows, channels: ch };
}

/**
 * Pillow's NEAREST (ImagingScaleAffine): source index = trunc(x0), x0 = scale / 2 then + scale
 * per pixel, accumulated in double precision exactly as Pillow does (the sum, not (x + 0.5) * scale,
 * decides ties when enlarging).
 */
function nearest(src: RgbImage, width: number, height: number, window: OutputWindow): RgbImage {
  const [wx0, wy0, wx1, wy1] = window;
  const ch = src.channels;
  const outWidth = wx1 - wx0;
  const out = new Uint8Array(outWidth * (wy1 - wy0) * ch);
  const sourceIndices = (inSize: number, outSize: number) => {
    const scale = inSize / outSize;
    const table = new Int32Array(outSize);
    let pos = scale * 0.5;
    for (let i = 0; i < outSize; i++, pos += scale) table[i] = Math.min(Math.trunc(pos), inSize - 1);
    return table;
  };
  const xs = sourceIndices(src.width, width);
  const ys = sourceIndices(src.height, height);
  for (let y = wy0; y < wy1; y++) {
    const yi = ys[y] as number;
    for (let x = wx0; x < wx1; x++) {
      const xi = xs[x] as number;
      for (let k = 0; k < ch; k++) out[((y - wy0) * outWidth + x - wx0) * ch + k] = src.data[(yi * src.width + xi) * ch + k] as number;
    }
  }
  return { data: out, width: outWidth, height: wy1 - wy0, channels: ch };
}
