import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { splitShards } from './shardSplit.js';
import { readShard, resolveShards } from './shards.js';
import { SkipCounter } from './skipCounter.js';

const fixtures = path.join(import.meta.dirname, '..', 'test', 'fixtures', 'img2dataset');
const ten = Array.from({ length: 10 }, (_, i) => `s${i}`);

describe('splitShards', () => {
  it('gives shard i to slot i mod (worldSize * numWorkers), slot = rank * numWorkers + workerId', () => {
    expect(splitShards(ten)).toEqual(ten);
    expect(splitShards(ten, { rank: 1, worldSize: 2 })).toEqual(['s1', 's3', 's5', 's7', 's9']);
    // 2 ranks x 2 workers: rank 1 worker 0 is slot 2, rank 0 worker 1 is slot 1.
    expect(splitShards(ten, { rank: 1, worldSize: 2, workerId: 0, numWorkers: 2 })).toEqual(['s2', 's6']);
    expect(splitShards(ten, { rank: 0, worldSize: 2, workerId: 1, numWorkers: 2 })).toEqual(['s1', 's5', 's9']);
    const all = [0, 1].flatMap((rank) => [0, 1].flatMap((workerId) => splitShards(ten, { rank, worldSize: 2, workerId, numWorkers: 2 })));
    expect(all.sort()).toEqual([...ten].sort());
  });

  it('reads every sample of the img2dataset fixture exactly once per epoch across ranks', async () => {
    const shards = await resolveShards(path.join(fixtures, '{00000..00002}.tar'));
    for (const worldSize of [1, 2, 3]) {
      const keys: string[] = [];
      for (let rank = 0; rank < worldSize; rank++)
        for (const s of splitShards(shards, { rank, worldSize })) for await (const r of readShard(s, new SkipCounter())) keys.push(r.key);
      expect(keys.sort()).toEqual(['000000000', '000000001', '000000002', '000010000', '000010001', '000020000', '000020001']);
    }
  });

  it('refuses more rank x worker slots than shards, and bad ranks, with E_CONFIG', () => {
    expect(() => splitShards(['a', 'b', 'c'], { rank: 0, worldSize: 2, numWorkers: 2 })).toThrow(
      expect.objectContaining({ code: 'E_CONFIG', message: expect.stringContaining('3 shards cannot feed 2 ranks x 2 workers (4 slots)') }),
    );
    expect(() => splitShards(ten, { rank: 2, worldSize: 2 })).toThrow(/rank must be below worldSize/);
    expect(() => splitShards(ten, { workerId: 1 })).toThrow(/workerId must be below numWorkers/);
  });
});
