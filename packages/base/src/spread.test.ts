import { describe, expect, it } from 'vitest';
import { spread } from './spread.js';

describe('spread', () => {
  it('matches numpy.percentile (linear) on an odd and an even count', () => {
    // numpy.percentile([3, 1, 2], [50, 99]) -> [2.0, 2.98]
    expect(spread([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3, p99: expect.closeTo(2.98, 12), count: 3 });
    // numpy.percentile([4, 1, 3, 2], [50, 99]) -> [2.5, 3.97]
    const even = spread([4, 1, 3, 2]);
    expect(even.median).toBe(2.5);
    expect(even.p99).toBeCloseTo(3.97, 12);
  });

  it('refuses an empty list', () => {
    expect(() => spread([])).toThrow(RangeError);
  });
});
