import { describe, expect, it } from 'vitest';
import { niceTicks, renderCurveSvg } from './curve.js';

describe('renderCurveSvg', () => {
  it('chooses round ticks (1, 2, 5 x 10^k)', () => {
    expect(niceTicks(0, 10, 5)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(-0.5, 10.5, 5)).toEqual([0, 5, 10]);
    expect(niceTicks(1, 60)).toEqual([10, 20, 30, 40, 50, 60]);
    expect(niceTicks(0.013, 0.061, 4)).toEqual([0.02, 0.04, 0.06]); // step: smallest of {1,2,5}x10^k >= 0.048/4
    expect(niceTicks(3, 3)).toEqual([3]);
  });

  it('maps data to the plot area: x to [left, left + width], y (padded 5%) upwards', () => {
    // 720x420 with margins left 70, right 20, top 40, bottom 50: plot 630 x 330 at (70, 40).
    // y range [0, 10] padded to [-0.5, 10.5]: y=0 -> 370 - 330 * 0.5/11 = 355; y=10 -> 55.
    const svg = renderCurveSvg(
      [
        {
          name: 'loss',
          points: [
            [0, 0],
            [5, Number.NaN],
            [10, 10],
          ],
        },
      ],
      { title: 'a < b', xLabel: 'step', yLabel: 'loss' },
    );
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="720" height="420"/);
    expect(svg).toContain('<polyline points="70.0,355.0 700.0,55.0"');
    expect(svg).toContain('>a &#60; b</text>');
    expect(svg).toContain('>step</text>');
    expect(svg).toContain('rotate(-90)" text-anchor="middle">loss</text>');
    // Legend and the tick labels 0..10.
    expect(svg).toContain('>loss</text>');
    for (const t of ['0', '2', '4', '6', '8', '10']) expect(svg).toContain(`text-anchor="end">${t}</text>`);
  });

  it('draws one line per series, a dot for a single point, and log-scale labels', () => {
    const svg = renderCurveSvg(
      [
        {
          name: 'a',
          points: [
            [1, 100],
            [2, 10],
            [3, 1],
          ],
        },
        { name: 'b', points: [[2, 0.1]] },
      ],
      { logY: true },
    );
    expect(svg.match(/<polyline/g)).toHaveLength(1);
    expect(svg.match(/<circle/g)).toHaveLength(1);
    for (const t of ['0.1', '1', '10', '100']) expect(svg).toContain(`text-anchor="end">${t}</text>`);
  });
});
