import { describe, expect, it } from 'vitest';
import { poolingWeights } from './pooling.js';

describe('poolingWeights', () => {
  it("'argmax' picks the first real token with the highest id, as torch.argmax over CLIP's ids", () => {
    // Row 0: ids 0 7 3 7 1 -> the first 7 (position 1). Row 1: the 9 is padding, so the 5 (position 2).
    const ids = Int32Array.from([0, 7, 3, 7, 1, 0, 4, 5, 1, 9]);
    const mask = Int32Array.from([1, 1, 1, 1, 1, 1, 1, 1, 1, 0]);
    expect([...poolingWeights('argmax', mask, 2, 5, ids)]).toEqual([0, 1, 0, 0, 0, 0, 0, 1, 0, 0]);
  });

  it("'eos' picks the first EOS, not the highest id", () => {
    const ids = Int32Array.from([0, 7, 1, 1]);
    expect([...poolingWeights('eos', Int32Array.from([1, 1, 1, 1]), 1, 4, ids, 1)]).toEqual([0, 0, 1, 0]);
  });
});
