import { SeededRandom } from '@tessera/core';
import { describe, expect, it } from 'vitest';
import { nativeAddon } from './nativeGemm.js';
import { type BatchKernel, VectorMatrix } from './vectorMatrix.js';

/** Dot products in float64, the reference. */
function reference(values: Float32Array, q: Float32Array, dim: number): number[] {
  return Array.from({ length: values.length / dim }, (_, r) => q.reduce((s, x, j) => s + x * values[r * dim + j], 0));
}

describe('VectorMatrix', () => {
  it('scores rows with the SIMD kernel (dim multiple of 16) and the JS loop alike, matching float64', () => {
    const rng = new SeededRandom(1);
    for (const dim of [16, 48, 512, 7]) {
      const rows = 37;
      const values = Float32Array.from(rng.array(rows * dim, (r) => r.normal(0, 1)));
      const q = Float32Array.from(rng.array(dim, (r) => r.normal(0, 1)));
      const expected = reference(values, q, dim);
      for (const simd of [true, false]) {
        const m = new VectorMatrix(dim, simd);
        expect(m.simd).toBe(simd && dim % 16 === 0);
        m.reserve(rows);
        m.rows = rows;
        m.values.set(values);
        const got = Array.from(m.scores(q));
        expect(got).toHaveLength(rows);
        got.forEach((s, i) => {
          expect(s).toBeCloseTo(expected[i], 3);
        });
      }
    }
  });

  it('keeps its rows when the memory grows past one page', () => {
    const dim = 32;
    const m = new VectorMatrix(dim);
    m.reserve(4);
    m.rows = 4;
    m.row(3).fill(0.25);
    m.reserve(5000); // 640 KB: several 64 KiB pages
    m.rows = 5000;
    expect(Array.from(m.row(3))).toEqual(new Array(dim).fill(0.25));
    m.row(4999).fill(1);
    const q = new Float32Array(dim).fill(1);
    const scores = m.scores(q);
    expect(scores[3]).toBe(8);
    expect(scores[4999]).toBe(32);
    expect(scores[10]).toBe(0);
  });

  it('scores a batch block by block on every kernel, each block matching float64', async () => {
    const rng = new SeededRandom(2);
    const addon = await nativeAddon();
    // 300 queries make blocks of 3495 rows: 8000 rows take three, the last one short.
    for (const [rows, nq, dim, simd] of [
      [8000, 300, 32, true],
      [50, 7, 48, true],
      [50, 7, 7, false],
    ] as const) {
      const values = Float32Array.from(rng.array(rows * dim, (r) => r.normal(0, 1)));
      const queries = Array.from({ length: nq }, () => Float32Array.from(rng.array(dim, (r) => r.normal(0, 1))));
      const expected = queries.map((q) => reference(values, q, dim));
      for (const kernel of ['gemm', 'dots', 'auto'] as BatchKernel[]) {
        const m = new VectorMatrix(dim, simd);
        m.reserve(rows);
        m.rows = rows;
        m.values.set(values);
        const seen: number[] = [];
        let worst = 0;
        m.scoreBlocks(queries, addon, kernel, (scores, start, count) => {
          expect(start).toBe(seen.reduce((a, b) => a + b, 0));
          expect(scores).toHaveLength(nq * count);
          seen.push(count);
          for (let i = 0; i < nq; i++)
            for (let r = 0; r < count; r++) worst = Math.max(worst, Math.abs(scores[i * count + r] - expected[i][start + r]));
        });
        expect(seen.reduce((a, b) => a + b, 0)).toBe(rows);
        if (rows === 8000) expect(seen.length).toBe(3);
        expect(worst).toBeLessThan(1e-4);
        // The rows are left as they were (queries and scores live after them).
        expect(m.values).toEqual(values);
      }
    }
  });
});
