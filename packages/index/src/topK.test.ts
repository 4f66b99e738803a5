import { SeededRandom } from '@tessera/core';
import { describe, expect, it } from 'vitest';
import { TopK } from './topK.js';

describe('TopK', () => {
  it('keeps the k best of a stream, ties to the earlier index, as a full sort would', () => {
    const rng = new SeededRandom(5);
    for (const k of [1, 3, 10, 64]) {
      // Scores from a small set so ties are frequent.
      const scores = Array.from(rng.array(500, (r) => r.int(40) / 8));
      const top = new TopK(k);
      scores.forEach((s, i) => {
        top.push(s, i);
      });
      const expected = scores
        .map((score, index) => ({ index, score }))
        .sort((a, b) => b.score - a.score || a.index - b.index)
        .slice(0, k);
      expect(top.sorted()).toEqual(expected);
    }
  });

  it('holds fewer than k when fewer were pushed', () => {
    const top = new TopK(5);
    top.push(0.5, 0);
    top.push(0.9, 1);
    expect(top.sorted()).toEqual([
      { index: 1, score: 0.9 },
      { index: 0, score: 0.5 },
    ]);
    expect(top.threshold).toBe(Number.NEGATIVE_INFINITY);
  });
});
