import { SeededRandom } from '@tessera/core';
import { describe, expect, it } from 'vitest';
import { Int8Codes } from './int8Codes.js';

function unitVectors(rng: SeededRandom, n: number, dim: number): Float32Array[] {
  return Array.from({ length: n }, () => {
    const v = Float32Array.from(rng.array(dim, (r) => r.normal(0, 1)));
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  });
}

/** Rows added one at a time when `grow`, so every reserve moves the scales up behind the codes. */
function filled(codes: Int8Codes, vectors: Float32Array[], grow = false): Int8Codes {
  if (!grow) codes.reserve(vectors.length);
  vectors.forEach((v, i) => {
    if (grow) codes.reserve(i + 1);
    codes.rows = i + 1;
    codes.set(i, v);
  });
  return codes;
}

describe('Int8Codes', () => {
  it('quantizes each row by its largest magnitude (hand-computed)', () => {
    const codes = filled(new Int8Codes(32), [
      Float32Array.from({ length: 32 }, (_, j) => (j === 0 ? 0.6 : j === 1 ? 0.8 : 0)),
      Float32Array.from({ length: 32 }, (_, j) => (j === 0 ? 1 : 0)),
    ]);
    const query = Float32Array.from({ length: 32 }, (_, j) => (j === 0 ? 1 : 0));
    const scores = codes.scores(query);
    // Row 0: scale 0.8/127, 0.6 -> round(95.25) = 95; the query is exactly 16383 x 1/16383.
    expect(scores[0]).toBeCloseTo((95 * 0.8) / 127, 6);
    expect(scores[1]).toBeCloseTo(1, 6);
  });

  it('scores the same on the SIMD kernel as on the JS loop, within 2e-3 of the float64 cosine', () => {
    const rng = new SeededRandom(1);
    const dim = 512;
    const vectors = unitVectors(rng, 300, dim);
    const simd = filled(new Int8Codes(dim), vectors, true);
    const plain = filled(new Int8Codes(dim, false), vectors);
    expect(simd.simd).toBe(true);
    expect(plain.simd).toBe(false);
    expect(simd.bytes).toBe(300 * (dim + 4));
    for (const query of unitVectors(rng, 3, dim)) {
      const a = Array.from(simd.scores(query));
      const b = Array.from(plain.scores(query));
      expect(a).toEqual(b);
      vectors.forEach((v, r) => {
        let dot = 0;
        for (let j = 0; j < dim; j++) dot += v[j] * query[j];
        expect(Math.abs(a[r] - dot)).toBeLessThan(2e-3);
      });
    }
  });

  it('moves a row over another as a delete does', () => {
    const rng = new SeededRandom(2);
    const vectors = unitVectors(rng, 3, 64);
    const codes = filled(new Int8Codes(64), vectors);
    const before = codes.scores(vectors[2]).slice();
    codes.move(2, 0);
    codes.rows = 2;
    const after = codes.scores(vectors[2]);
    expect(after[0]).toBe(before[2]);
    expect(after[1]).toBe(before[1]);
  });
});
