import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { progress } from './progress.js';

describe('progress', () => {
  it('prints plain periodic lines with rate and fields when not on a terminal', () => {
    const stream = new PassThrough() as unknown as NodeJS.WriteStream;
    let text = '';
    (stream as unknown as PassThrough).on('data', (chunk) => {
      text += String(chunk);
    });
    const bar = progress({ label: 'train', total: 4, unit: 'step', stream, intervalMs: 0 });
    bar.tick(1, { loss: 2.5 });
    bar.tick(3, { loss: 0.123456, 'samples/s': 240.7 });
    bar.stop();
    const lines = text.trim().split('\n');
    expect(lines[0]).toMatch(/^train 1\/4 step \(25%\) .* step\/s {2}eta .* {2}loss 2\.5000$/);
    expect(lines.at(-1)).toMatch(/^train 4\/4 step \(100%\).*loss 0\.1235 {2}samples\/s 240\.7$/);
  });
});
