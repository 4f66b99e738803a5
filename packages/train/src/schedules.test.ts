import { describe, expect, it } from 'vitest';
import { constantSchedule, cosineSchedule, linearSchedule, makeSchedule } from './schedules.js';

describe('LR schedules', () => {
  it('cosine: linear warmup to the peak, then half a cosine down to minLr (hand values)', () => {
    const s = cosineSchedule({ lr: 1, totalSteps: 14, warmupSteps: 4 });
    // warmup: lr * (step + 1) / 4
    expect([0, 1, 2, 3].map(s)).toEqual([0.25, 0.5, 0.75, 1]);
    // after warmup: 0.5 * (1 + cos(pi * (step - 4) / 10))
    expect(s(4)).toBe(1);
    expect(s(9)).toBeCloseTo(0.5, 12); // cos(pi/2) = 0
    expect(s(14)).toBeCloseTo(0, 12);
    expect(s(6)).toBeCloseTo(0.5 * (1 + Math.cos(Math.PI / 5)), 12); // 0.904508...
    expect(s(6)).toBeCloseTo(0.9045084971874737, 12);
    expect(s(100)).toBeCloseTo(0, 12); // clamped past the end
    const floor = cosineSchedule({ lr: 1e-3, totalSteps: 10, minLr: 1e-4 });
    expect(floor(0)).toBe(1e-3);
    expect(floor(5)).toBeCloseTo(5.5e-4, 15);
    expect(floor(10)).toBeCloseTo(1e-4, 15);
  });

  it('linear: warmup, then a straight line to minLr', () => {
    const s = linearSchedule({ lr: 2, totalSteps: 12, warmupSteps: 2 });
    expect([0, 1, 2, 7, 12, 20].map(s)).toEqual([1, 2, 2, 1, 0, 0]);
  });

  it('constant: warmup, then flat', () => {
    const s = constantSchedule({ lr: 3, totalSteps: 100, warmupSteps: 3 });
    expect([0, 1, 2, 3, 99].map(s)).toEqual([1, 2, 3, 3, 3]);
    expect(makeSchedule('constant', { lr: 0.5, totalSteps: 10 })(7)).toBe(0.5);
  });

  it('rejects impossible settings with E_CONFIG', () => {
    expect(() => cosineSchedule({ lr: 0, totalSteps: 10 })).toThrow(expect.objectContaining({ code: 'E_CONFIG' }));
    expect(() => linearSchedule({ lr: 1, totalSteps: 10, warmupSteps: 1.5 })).toThrow(/warmupSteps/);
  });
});
