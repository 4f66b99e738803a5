import { describe, expect, it } from 'vitest';
import { SkipCounter } from './skipCounter.js';

describe('SkipCounter', () => {
  it('counts by reason in name order, keeps the first examples, and says so in one line', () => {
    expect(new SkipCounter().toString()).toBe('0 skipped');
    const skips = new SkipCounter(2);
    skips.add('malformed_line', 'a.jsonl:3');
    skips.add('empty_caption', 'a.jsonl:5', 'no caption');
    skips.add('malformed_line', 'a.jsonl:9');
    skips.addCounts({ truncated_shard: 2 });
    expect(skips.counts()).toEqual({ empty_caption: 1, malformed_line: 2, truncated_shard: 2 });
    expect(Object.keys(skips.counts())).toEqual(['empty_caption', 'malformed_line', 'truncated_shard']);
    expect(skips.total).toBe(5);
    expect(skips.examples()).toEqual([
      { reason: 'malformed_line', where: 'a.jsonl:3' },
      { reason: 'empty_caption', where: 'a.jsonl:5', message: 'no caption' },
    ]);
    expect(skips.toString()).toBe('5 skipped (1 empty_caption, 2 malformed_line, 2 truncated_shard)');
  });
});
