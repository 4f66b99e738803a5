import { TesseraError } from '@tessera/core';
import type { NativeAddon } from '@tessera/native';
import { assembleKernels, growMemory, instantiate, lazyModule, MAX_PAGES, newMemory, PAGE, zeroV128 } from './wasmKernels.js';

/**
 * Hand-assembled WebAssembly SIMD kernels (no toolchain needed):
 *
 *   dots(m, q, rows, dim, out): for r < rows: out[r] = <m[r*dim .. r*dim+dim), q>
 *   dots4(m, q, rows, dim, out, stride): the same for the 4 queries at q + i*dim (i < 4),
 *     out[i*stride + r] (stride in bytes): each row is loaded once for four queries
 *
 * dots keeps four f32x4 accumulators over 16 floats a step (so dim must be a multiple of 16);
 * dots4 two per query over 8 floats. Memory is imported, so the matrix lives in it and is
 * never copied per query.
 */
// biome-ignore format: hand-assembled bytecode, one instruction group per line
const accumulate = (acc: number, offset: number) => [
  0x20, acc, // local.get acc
  0x20, 0x00, 0x20, 0x06, 0x6a, 0xfd, 0x00, 0x04, offset, // v128.load (m + j) offset
  0x20, 0x01, 0x20, 0x06, 0x6a, 0xfd, 0x00, 0x04, offset, // v128.load (q + j) offset
  0xfd, 0xe6, 0x01, 0xfd, 0xe4, 0x01, // f32x4.mul, f32x4.add
  0x21, acc, // local.set acc
];
// biome-ignore format: hand-assembled bytecode, one instruction group per line
const body = [
  0x02, 0x03, 0x7f, 0x04, 0x7b, // locals: r j db (i32) = 5..7, a0..a3 (v128) = 8..11
  0x20, 0x03, 0x41, 0x02, 0x74, 0x21, 0x07, // db = dim << 2
  0x02, 0x40, 0x03, 0x40, // block $done, loop $row
  0x20, 0x05, 0x20, 0x02, 0x4f, 0x0d, 0x01, // if r >= rows: break
  ...zeroV128, 0x21, 0x08, ...zeroV128, 0x21, 0x09, ...zeroV128, 0x21, 0x0a, ...zeroV128, 0x21, 0x0b,
  0x41, 0x00, 0x21, 0x06, // j = 0
  0x02, 0x40, 0x03, 0x40, // block $jdone, loop $j
  0x20, 0x06, 0x20, 0x07, 0x4f, 0x0d, 0x01, // if j >= db: break
  ...accumulate(0x08, 0x00), ...accumulate(0x09, 0x10), ...accumulate(0x0a, 0x20), ...accumulate(0x0b, 0x30),
  0x20, 0x06, 0x41, 0xc0, 0x00, 0x6a, 0x21, 0x06, // j += 64
  0x0c, 0x00, 0x0b, 0x0b, // br $j; end loop; end block
  0x20, 0x04, // out address
  0x20, 0x08, 0x20, 0x09, 0xfd, 0xe4, 0x01, 0x20, 0x0a, 0x20, 0x0b, 0xfd, 0xe4, 0x01, 0xfd, 0xe4, 0x01, 0x21, 0x08, // a0 = (a0 + a1) + (a2 + a3)
  0x20, 0x08, 0xfd, 0x1f, 0x00, 0x20, 0x08, 0xfd, 0x1f, 0x01, 0x92, // lane 0 + lane 1
  0x20, 0x08, 0xfd, 0x1f, 0x02, 0x20, 0x08, 0xfd, 0x1f, 0x03, 0x92, 0x92, // + (lane 2 + lane 3)
  0x38, 0x02, 0x00, // f32.store
  0x20, 0x04, 0x41, 0x04, 0x6a, 0x21, 0x04, // out += 4
  0x20, 0x00, 0x20, 0x07, 0x6a, 0x21, 0x00, // m += db
  0x20, 0x05, 0x41, 0x01, 0x6a, 0x21, 0x05, // r += 1
  0x0c, 0x00, 0x0b, 0x0b, 0x0b, // br $row; end loop; end block; end func
];
// dots4 locals: params m q rows dim out stride = 0..5; r j db q1 q2 q3 mj (i32) = 6..12;
// acc[i][u] (v128) = 13 + 2i + u; mv0 mv1 (v128) = 21, 22.
const Q_BASE = [0x01, 0x09, 0x0a, 0x0b]; // the local holding query i's address
// biome-ignore format: hand-assembled bytecode, one instruction group per line
const accumulate4 = (i: number, u: number) => [
  0x20, 13 + 2 * i + u, // local.get acc
  0x20, 21 + u, // local.get mv_u
  0x20, Q_BASE[i], 0x20, 0x07, 0x6a, 0xfd, 0x00, 0x04, 16 * u, // v128.load (q_i + j) offset 16u
  0xfd, 0xe6, 0x01, 0xfd, 0xe4, 0x01, // f32x4.mul, f32x4.add
  0x21, 13 + 2 * i + u, // local.set acc
];
// biome-ignore format: hand-assembled bytecode, one instruction group per line
const store4 = (i: number) => [
  0x20, 0x04, 0x20, 0x05, 0x41, i, 0x6c, 0x6a, // out + i * stride
  0x20, 13 + 2 * i, 0x20, 14 + 2 * i, 0xfd, 0xe4, 0x01, 0x21, 0x15, // mv0 = acc[i][0] + acc[i][1]
  0x20, 0x15, 0xfd, 0x1f, 0x00, 0x20, 0x15, 0xfd, 0x1f, 0x01, 0x92, // lane 0 + lane 1
  0x20, 0x15, 0xfd, 0x1f, 0x02, 0x20, 0x15, 0xfd, 0x1f, 0x03, 0x92, 0x92, // + (lane 2 + lane 3)
  0x38, 0x02, 0x00, // f32.store
];
// biome-ignore format: hand-assembled bytecode, one instruction group per line
const body4 = [
  0x02, 0x07, 0x7f, 0x0a, 0x7b, // locals: 7 i32, 10 v128
  0x20, 0x03, 0x41, 0x02, 0x74, 0x21, 0x08, // db = dim << 2
  0x20, 0x01, 0x20, 0x08, 0x6a, 0x22, 0x09, 0x20, 0x08, 0x6a, 0x22, 0x0a, 0x20, 0x08, 0x6a, 0x21, 0x0b, // q1 = q + db, q2 = q1 + db, q3 = q2 + db
  0x02, 0x40, 0x03, 0x40, // block $done, loop $row
  0x20, 0x06, 0x20, 0x02, 0x4f, 0x0d, 0x01, // if r >= rows: break
  ...[13, 14, 15, 16, 17, 18, 19, 20].flatMap((acc) => [...zeroV128, 0x21, acc]),
  0x41, 0x00, 0x21, 0x07, // j = 0
  0x02, 0x40, 0x03, 0x40, // block $jdone, loop $j
  0x20, 0x07, 0x20, 0x08, 0x4f, 0x0d, 0x01, // if j >= db: break
  0x20, 0x00, 0x20, 0x07, 0x6a, 0x22, 0x0c, 0xfd, 0x00, 0x04, 0x00, 0x21, 0x15, // mv0 = load (mj = m + j)
  0x20, 0x0c, 0xfd, 0x00, 0x04, 0x10, 0x21, 0x16, // mv1 = load mj offset 16
  ...[0, 1, 2, 3].flatMap((i) => [...accumulate4(i, 0), ...accumulate4(i, 1)]),
  0x20, 0x07, 0x41, 0x20, 0x6a, 0x21, 0x07, // j += 32
  0x0c, 0x00, 0x0b, 0x0b, // br $j; end loop; end block
  ...[0, 1, 2, 3].flatMap(store4),
  0x20, 0x04, 0x41, 0x04, 0x6a, 0x21, 0x04, // out += 4
  0x20, 0x00, 0x20, 0x08, 0x6a, 0x21, 0x00, // m += db
  0x20, 0x06, 0x41, 0x01, 0x6a, 0x21, 0x06, // r += 1
  0x0c, 0x00, 0x0b, 0x0b, 0x0b, // br $row; end loop; end block; end func
];
const kernel = lazyModule(
  assembleKernels([
    { name: 'dots', params: [0x7f, 0x7f, 0x7f, 0x7f, 0x7f], body },
    { name: 'dots4', params: [0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f], body: body4 },
  ]),
);

type Dots = (m: number, q: number, rows: number, dim: number, out: number) => void;
type Dots4 = (m: number, q: number, rows: number, dim: number, out: number, stride: number) => void;

/** Scores per block of a batched scan ([queries, rows] float32, 4 MiB): small enough to stay in cache while merged. */
const BLOCK_SCORES = 1 << 20;
/** Below this many multiply-adds a block is too small to time the two kernels reliably. */
const MEASURE_MIN_MACS = 1 << 24;
/** Fewer queries than this are a matrix-vector product, memory-bound: the SIMD kernel streams the rows once per query at full bandwidth. */
const GEMM_MIN_QUERIES = 4;

/**
 * How a batch of queries is scored: 'gemm' as one matrix product per block of rows on the native
 * addon (BLAS), 'dots' with the SIMD kernel query by query, 'auto' with whichever ran faster on
 * the first large block (timed once per native thread count, then kept for the process).
 */
export type BatchKernel = 'auto' | 'gemm' | 'dots';
const fastest = new Map<number, 'gemm' | 'dots'>();

/** The batch kernel 'auto' settled on at this many native threads (undefined before its first large batch). */
export function batchKernelChosen(threads: number): 'gemm' | 'dots' | undefined {
  return fastest.get(threads);
}

/**
 * Row-major float32 matrix kept in WebAssembly memory (rows live at offset 0; queries and
 * scores go right after the rows in use), with `scores(q)` = matrix x q and `scoreBlocks` =
 * block-wise queries x matrix^T.
 */
export class VectorMatrix {
  readonly dim: number;
  private readonly memory = newMemory();
  private readonly dots: Dots | null;
  private readonly dots4: Dots4 | null;
  private data: Float32Array;
  /** Rows the caller uses (the kernel scans these). */
  rows = 0;

  constructor(dim: number, useSimd = true) {
    this.dim = dim;
    const module = useSimd && dim % 16 === 0 ? kernel() : null;
    const exports = module === null ? null : instantiate(module, this.memory);
    this.dots = exports === null ? null : (exports.dots as Dots);
    this.dots4 = exports === null ? null : (exports.dots4 as Dots4);
    this.data = new Float32Array(this.memory.buffer);
  }

  /** Whether queries run on the WebAssembly SIMD kernel (dim a multiple of 16) or the JS loop. */
  get simd(): boolean {
    return this.dots !== null;
  }

  /** The stored values (rows x dim); valid until the next `reserve`. */
  get values(): Float32Array {
    return this.data.subarray(0, this.rows * this.dim);
  }

  row(index: number): Float32Array {
    return this.data.subarray(index * this.dim, (index + 1) * this.dim);
  }

  /** Makes room for `rows` rows plus a query and `rows` scores. */
  reserve(rows: number): void {
    this.ensure(rows * this.dim + this.dim + rows + 16);
  }

  /** Scores of every row against unit query `q`; a view valid until the next `reserve` or `scores`. */
  scores(q: Float32Array): Float32Array {
    const { dim, rows } = this;
    const qOffset = rows * dim;
    const outOffset = qOffset + dim;
    this.data.set(q, qOffset);
    this.rowDots(qOffset, 0, rows, outOffset);
    return this.data.subarray(outOffset, outOffset + rows);
  }

  /** out[i] = <row rows[i], unit query q>: the SIMD kernel on just these rows (a re-rank). */
  scoreRows(q: Float32Array, rows: ArrayLike<number>, out: Float64Array): void {
    const { dim } = this;
    const qOffset = this.rows * dim;
    const outOffset = qOffset + dim;
    this.ensure(outOffset + rows.length);
    this.data.set(q, qOffset);
    for (let i = 0; i < rows.length; i++) this.rowDots(qOffset, rows[i] as number, 1, outOffset + i);
    for (let i = 0; i < rows.length; i++) out[i] = this.data[outOffset + i] as number;
  }

  /**
   * Scores every row against every query, a block of rows at a time: `onBlock(scores, start,
   * count)` gets scores[i * count + r] = <query i, row start + r>, a view valid during the call.
   * With `addon`, a block is one matrix product [queries, dim] x [dim, count] (see BatchKernel).
   */
  scoreBlocks(
    queries: readonly Float32Array[],
    addon: NativeAddon | null,
    kernel: BatchKernel,
    onBlock: (scores: Float32Array, start: number, count: number) => void,
  ): void {
    const { dim, rows } = this;
    const nq = queries.length;
    if (rows === 0 || nq === 0) return;
    const block = Math.max(1, Math.min(rows, Math.floor(BLOCK_SCORES / nq)));
    const qOffset = rows * dim;
    const outOffset = qOffset + nq * dim;
    this.ensure(outOffset + nq * block);
    queries.forEach((q, i) => {
      this.data.set(q, qOffset + i * dim);
    });
    let choice: 'gemm' | 'dots' | undefined =
      addon === null || kernel === 'dots' || nq < GEMM_MIN_QUERIES ? 'dots' : kernel === 'gemm' ? 'gemm' : fastest.get(addon.getThreads());
    for (let start = 0; start < rows; start += block) {
      const count = Math.min(block, rows - start);
      const gemm = () => addon?.gemm(this.memory.buffer, 1, nq, count, dim, 0, 1, qOffset * 4, 0, start * dim * 4, 0, outOffset * 4);
      const dots = () => {
        let i = 0;
        if (this.dots4 !== null)
          for (; i + 4 <= nq; i += 4)
            this.dots4(start * dim * 4, (qOffset + i * dim) * 4, count, dim, (outOffset + i * count) * 4, count * 4);
        for (; i < nq; i++) this.rowDots(qOffset + i * dim, start, count, outOffset + i * count);
      };
      if (choice === 'dots') dots();
      else if (choice === 'gemm') gemm();
      else if (addon !== null && nq * count * dim >= MEASURE_MIN_MACS) {
        // Time both on this block, warm (the first BLAS call pays for its buffers and threads;
        // timed cold it lost to the SIMD kernel at 5x the speed), best of two each; every run
        // leaves the same scores.
        const time = (run: () => void) => {
          let best = Number.POSITIVE_INFINITY;
          for (let i = 0; i < 2; i++) {
            const t0 = performance.now();
            run();
            best = Math.min(best, performance.now() - t0);
          }
          return best;
        };
        gemm();
        choice = time(gemm) <= time(dots) ? 'gemm' : 'dots';
        fastest.set(addon.getThreads(), choice);
      } else gemm();
      onBlock(this.data.subarray(outOffset, outOffset + nq * count), start, count);
    }
  }

  /** out[r] = <row start + r, query at float offset q> for r < count (offsets in floats). */
  private rowDots(q: number, start: number, count: number, out: number): void {
    const { dim } = this;
    if (this.dots !== null) {
      this.dots(start * dim * 4, q * 4, count, dim, out * 4);
      return;
    }
    const m = this.data;
    const tail = dim - (dim % 4);
    for (let r = 0, off = start * dim; r < count; r++, off += dim) {
      // Four accumulators shorten the dependency chain.
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let j = 0;
      for (; j < tail; j += 4) {
        s0 += m[off + j] * m[q + j];
        s1 += m[off + j + 1] * m[q + j + 1];
        s2 += m[off + j + 2] * m[q + j + 2];
        s3 += m[off + j + 3] * m[q + j + 3];
      }
      for (; j < dim; j++) s0 += m[off + j] * m[q + j];
      m[out + r] = s0 + s1 + s2 + s3;
    }
  }

  /** Grows the memory to hold `floats` float32 values (geometrically, so appends stay amortised O(1)). */
  private ensure(floats: number): void {
    const full = () =>
      new TesseraError(
        'E_STORE_FULL',
        `an ExactStore holds at most ${Math.floor((MAX_PAGES * PAGE) / 4 / (this.dim + 1)) - this.dim - 16} vectors of dimension ${this.dim} (4 GiB of WebAssembly memory, which also holds a batch's queries and scores): use a LanceStore for larger collections, or search in smaller batches`,
      );
    if (growMemory(this.memory, floats * 4, full)) this.data = new Float32Array(this.memory.buffer);
  }
}
