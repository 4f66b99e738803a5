import { TesseraError } from '@tessera/core';
import { assembleKernels, growMemory, instantiate, lazyModule, newMemory, zeroV128 } from './wasmKernels.js';

/** Codes are int8 in [-127, 127]; the query is int16 in [-QUERY_MAX, QUERY_MAX] so a row's sum stays far inside int32. */
const CODE_MAX = 127;
const QUERY_MAX = 16_383;

/**
 * Hand-assembled WebAssembly SIMD kernel:
 *
 *   dots8(m, q, rows, dim, out, scales, qScale):
 *     for r < rows: out[r] = f32(sum_j m[r*dim + j] * q[j]) * scales[r] * qScale
 *
 * with m int8 (row-major), q int16, scales and out float32. Each step sign-extends 4 x 8 codes
 * to int16 (v128.load8x8_s) and multiplies-adds them pairwise with the query
 * (i32x4.dot_i16x8_s) into four accumulators, so a row costs a quarter of the float32 scan's
 * memory traffic and about half its instructions. dim must be a multiple of 32.
 */
// biome-ignore format: hand-assembled bytecode, one instruction group per line
const dot8 = (acc: number, codeOffset: number, queryOffset: number) => [
  0x20, acc, // local.get acc
  0x20, 0x08, 0xfd, 0x01, 0x03, codeOffset, // v128.load8x8_s mj offset
  0x20, 0x09, 0xfd, 0x00, 0x04, queryOffset, // v128.load qj offset
  0xfd, 0xba, 0x01, 0xfd, 0xae, 0x01, // i32x4.dot_i16x8_s, i32x4.add
  0x21, acc, // local.set acc
];
// biome-ignore format: hand-assembled bytecode, one instruction group per line
const body = [
  0x02, 0x04, 0x7f, 0x04, 0x7b, // locals: r mj qj end (i32) = 7..10, a0..a3 (v128) = 11..14
  0x02, 0x40, 0x03, 0x40, // block $done, loop $row
  0x20, 0x07, 0x20, 0x02, 0x4f, 0x0d, 0x01, // if r >= rows: break
  ...[0x0b, 0x0c, 0x0d, 0x0e].flatMap((acc) => [...zeroV128, 0x21, acc]),
  0x20, 0x00, 0x22, 0x08, 0x20, 0x03, 0x6a, 0x21, 0x0a, // mj = m; end = m + dim
  0x20, 0x01, 0x21, 0x09, // qj = q
  0x02, 0x40, 0x03, 0x40, // block $jdone, loop $j
  0x20, 0x08, 0x20, 0x0a, 0x4f, 0x0d, 0x01, // if mj >= end: break
  ...dot8(0x0b, 0x00, 0x00), ...dot8(0x0c, 0x08, 0x10), ...dot8(0x0d, 0x10, 0x20), ...dot8(0x0e, 0x18, 0x30),
  0x20, 0x08, 0x41, 0x20, 0x6a, 0x21, 0x08, // mj += 32
  0x20, 0x09, 0x41, 0xc0, 0x00, 0x6a, 0x21, 0x09, // qj += 64
  0x0c, 0x00, 0x0b, 0x0b, // br $j; end loop; end block
  0x20, 0x04, // out address
  0x20, 0x0b, 0x20, 0x0c, 0xfd, 0xae, 0x01, 0x20, 0x0d, 0x20, 0x0e, 0xfd, 0xae, 0x01, 0xfd, 0xae, 0x01, 0x21, 0x0b, // a0 = (a0 + a1) + (a2 + a3)
  0x20, 0x0b, 0xfd, 0x1b, 0x00, 0x20, 0x0b, 0xfd, 0x1b, 0x01, 0x6a, // lane 0 + lane 1
  0x20, 0x0b, 0xfd, 0x1b, 0x02, 0x20, 0x0b, 0xfd, 0x1b, 0x03, 0x6a, 0x6a, // + (lane 2 + lane 3)
  0xb2, // f32.convert_i32_s
  0x20, 0x05, 0x2a, 0x02, 0x00, 0x94, // * f32.load scales
  0x20, 0x06, 0x94, // * qScale
  0x38, 0x02, 0x00, // f32.store
  0x20, 0x04, 0x41, 0x04, 0x6a, 0x21, 0x04, // out += 4
  0x20, 0x05, 0x41, 0x04, 0x6a, 0x21, 0x05, // scales += 4
  0x20, 0x0a, 0x21, 0x00, // m = end (the next row)
  0x20, 0x07, 0x41, 0x01, 0x6a, 0x21, 0x07, // r += 1
  0x0c, 0x00, 0x0b, 0x0b, 0x0b, // br $row; end loop; end block; end func
];
const kernel = lazyModule(assembleKernels([{ name: 'dots8', params: [0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7d], body }]));

type Dots8 = (m: number, q: number, rows: number, dim: number, out: number, scales: number, qScale: number) => void;

/**
 * int8 copies of a store's unit vectors for a fast first pass: each row is scaled by its own
 * largest magnitude to [-127, 127] (4x smaller than float32), a query to int16, and
 * `scores(q)` approximates every cosine to about 1e-3, for the caller to re-rank the best
 * candidates against the float32 vectors. The same scalar quantization FAISS calls SQ8, with
 * a scale per vector instead of per dimension because unit vectors share no per-dimension range.
 *
 * Memory layout: codes (capacity x dim bytes), scales (capacity float32), the query (int16),
 * then the scores (float32), each 16-byte aligned.
 */
export class Int8Codes {
  readonly dim: number;
  private readonly memory = newMemory();
  private readonly dots8: Dots8 | null;
  private capacity = 0;
  /** Rows in use. */
  rows = 0;

  constructor(dim: number, useSimd = true) {
    this.dim = dim;
    const module = useSimd && dim % 32 === 0 ? kernel() : null;
    this.dots8 = module === null ? null : (instantiate(module, this.memory).dots8 as Dots8);
  }

  /** Whether scans run on the WebAssembly SIMD kernel (dim a multiple of 32) or the JS loop. */
  get simd(): boolean {
    return this.dots8 !== null;
  }

  /** Bytes the codes and their scales take (what a scan reads). */
  get bytes(): number {
    return this.rows * (this.dim + 4);
  }

  /** Makes room for `rows` rows. */
  reserve(rows: number): void {
    if (rows <= this.capacity) return;
    const capacity = Math.max(rows, 2 * this.capacity);
    const oldScales = this.scalesOffset(this.capacity);
    this.ensure(this.scoresOffset(capacity) + 4 * capacity);
    // The scales sit after the codes, so they move up as the codes' room grows.
    new Uint8Array(this.memory.buffer).copyWithin(this.scalesOffset(capacity), oldScales, oldScales + 4 * this.rows);
    this.capacity = capacity;
  }

  /** Quantizes `vector` into row `row` (reserved). */
  set(row: number, vector: Float32Array): void {
    const { dim } = this;
    let max = 0;
    for (let j = 0; j < dim; j++) max = Math.max(max, Math.abs(vector[j]));
    const scale = max === 0 ? 1 : max / CODE_MAX;
    const codes = new Int8Array(this.memory.buffer, row * dim, dim);
    for (let j = 0; j < dim; j++) codes[j] = Math.round(vector[j] / scale);
    this.scales()[row] = scale;
  }

  /** Copies row `from` over row `to` (a delete fills its hole with the last row). */
  move(from: number, to: number): void {
    const { dim } = this;
    new Int8Array(this.memory.buffer).copyWithin(to * dim, from * dim, (from + 1) * dim);
    const scales = this.scales();
    scales[to] = scales[from];
  }

  /** Approximate cosine of every row with unit query `q`; a view valid until the next `reserve` or `scores`. */
  scores(q: Float32Array): Float32Array {
    const { dim, rows, capacity } = this;
    let max = 0;
    for (let j = 0; j < dim; j++) max = Math.max(max, Math.abs(q[j]));
    const qScale = Math.fround(max === 0 ? 1 : max / QUERY_MAX);
    const qOffset = this.queryOffset(capacity);
    const query = new Int16Array(this.memory.buffer, qOffset, dim);
    for (let j = 0; j < dim; j++) query[j] = Math.round(q[j] / qScale);
    const outOffset = this.scoresOffset(capacity);
    const out = new Float32Array(this.memory.buffer, outOffset, rows);
    if (this.dots8 !== null) this.dots8(0, qOffset, rows, dim, outOffset, this.scalesOffset(capacity), qScale);
    else {
      // The kernel's arithmetic exactly: an int32 sum, then float32 products.
      const codes = new Int8Array(this.memory.buffer);
      const scales = this.scales();
      for (let r = 0, off = 0; r < rows; r++, off += dim) {
        let s = 0;
        for (let j = 0; j < dim; j++) s += codes[off + j] * query[j];
        out[r] = Math.fround(Math.fround(s) * scales[r]) * qScale;
      }
    }
    return out;
  }

  private scales(): Float32Array {
    return new Float32Array(this.memory.buffer, this.scalesOffset(this.capacity), this.capacity);
  }

  private scalesOffset(capacity: number): number {
    return align16(capacity * this.dim);
  }

  private queryOffset(capacity: number): number {
    return this.scalesOffset(capacity) + align16(4 * capacity);
  }

  private scoresOffset(capacity: number): number {
    return this.queryOffset(capacity) + align16(2 * this.dim);
  }

  private ensure(bytes: number): void {
    growMemory(
      this.memory,
      bytes,
      () =>
        new TesseraError(
          'E_STORE_FULL',
          `int8 scan codes for this many vectors of dimension ${this.dim} exceed 4 GiB of WebAssembly memory`,
        ),
    );
  }
}

const align16 = (bytes: number) => Math.ceil(bytes / 16) * 16;
