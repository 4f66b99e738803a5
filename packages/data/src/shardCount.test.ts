import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { countShardSamples, statsLocation } from './shardCount.js';
import { resolveShards } from './shards.js';

const fixtures = path.join(import.meta.dirname, '..', 'test', 'fixtures', 'img2dataset');

describe('countShardSamples', () => {
  it("takes img2dataset's _stats.json successes where present and counts the other shards", async () => {
    expect(statsLocation('data/00003.tar')).toBe('data/00003_stats.json');
    const shards = await resolveShards(path.join(fixtures, '{00000..00002}.tar'));
    // make_fixture.py: 3 + 2 samples with stats files, 2 in 00002.tar without one.
    expect(await countShardSamples(shards)).toEqual({ samples: 7, fromStats: 2, counted: 1 });
    expect(await countShardSamples(shards.slice(2))).toEqual({ samples: 2, fromStats: 0, counted: 1 });
  });
});
