import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SeededRandom } from '@tessera/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Batch, DataLoader, type EpochReport, type LoaderOptions, type RecordTransform } from './loader.js';
import type { DataRecord } from './record.js';
import { writeShards } from './shards.js';
import { shuffleBuffer } from './shuffleBuffer.js';
import { SkipCounter, SkipSample } from './skipCounter.js';
import { manifestSource, openSource, shardSource } from './sources.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tessera-loader-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** 23 in-memory records r00..r22 (images as bytes), alternating train/test. */
const records: DataRecord[] = Array.from({ length: 23 }, (_, i) => ({
  key: `r${String(i).padStart(2, '0')}`,
  image: { bytes: new Uint8Array([i]), ext: 'png' },
  captions: [{ text: `caption ${i}` }],
  split: i % 2 === 0 ? 'train' : 'test',
  meta: {},
}));

/** Fails r05 (counted as corrupt_image) and draws one number from the per-sample generator, like augmentation. */
const transform: RecordTransform<string> = async (record, { rng }) => {
  await new Promise((r) => setTimeout(r, 0));
  if (record.key === 'r05') throw new SkipSample('corrupt_image');
  return `${record.key}:${rng.int(1000)}`;
};

async function take<T>(it: AsyncGenerator<Batch<T>>, n: number): Promise<T[][]> {
  const out: T[][] = [];
  if (n === 0) return out;
  for await (const b of it) {
    out.push(b.items);
    if (out.length === n) break;
  }
  return out;
}

async function fromArray<T>(items: T[]): Promise<T[]> {
  const out: T[] = [];
  const src = (async function* () {
    yield* items;
  })();
  for await (const x of shuffleBuffer(src, 4, new SeededRandom(3))) out.push(x);
  return out;
}

describe('shuffleBuffer', () => {
  it('emits a permutation, deterministic per seed, never more than size-1 places early', async () => {
    const input = Array.from({ length: 50 }, (_, i) => i);
    const a = await fromArray(input);
    expect([...a].sort((x, y) => x - y)).toEqual(input);
    expect(await fromArray(input)).toEqual(a);
    expect(a).not.toEqual(input);
    for (const [pos, item] of a.entries()) expect(pos).toBeGreaterThanOrEqual(item - 3);
  });

  it('keeps the order with size 1', async () => {
    const out: number[] = [];
    const src = (async function* () {
      yield* [1, 2, 3];
    })();
    for await (const x of shuffleBuffer(src, 1, new SeededRandom(0))) out.push(x);
    expect(out).toEqual([1, 2, 3]);
  });
});

describe('DataLoader', () => {
  const options: LoaderOptions = { batchSize: 4, seed: 7, shuffleBuffer: 5, prefetch: 2 };

  it('gives each record once per epoch, skips and counts transform failures, and reports the epoch', async () => {
    const reports: EpochReport[] = [];
    const loader = new DataLoader(manifestSource(records), transform, options, (r) => reports.push(r));
    const epoch0 = await take(loader.epochBatches(), 100);
    const keys0 = epoch0.flat().map((s) => s.split(':')[0]);
    // 22 good records, batches of 4 with the last short one dropped: 5 batches, 20 samples.
    expect(epoch0.map((b) => b.length)).toEqual([4, 4, 4, 4, 4]);
    expect(new Set(keys0).size).toBe(20);
    expect(keys0).not.toContain('r05');
    expect(reports).toEqual([{ epoch: 0, batches: 5, samples: 20, skipped: { corrupt_image: 1 } }]);
    const epoch1 = await take(loader.epochBatches(), 100);
    expect(epoch1.flat()).not.toEqual(epoch0.flat());
    expect(loader.epoch).toBe(2);
  });

  it('is deterministic per seed and differs across seeds', async () => {
    const run = (seed: number) => take(new DataLoader(manifestSource(records), transform, { ...options, seed }).batches(), 12);
    const a = await run(7);
    expect(await run(7)).toEqual(a);
    expect(await run(8)).not.toEqual(a);
  });

  it('resumes exactly from a saved state (mid-epoch, at an epoch end, any prefetch)', async () => {
    const total = 14; // 5 batches per epoch: runs into the third epoch
    const reference = await take(new DataLoader(manifestSource(records), transform, options).batches(), total);
    for (const k of [0, 1, 3, 5, 7]) {
      const first = new DataLoader(manifestSource(records), transform, { ...options, prefetch: 3 });
      const before = await take(first.batches(), k);
      const saved = JSON.parse(JSON.stringify(first.state()));
      const second = new DataLoader(manifestSource(records), transform, { ...options, seed: 999, prefetch: 1 });
      second.restore(saved);
      const after = await take(second.batches(), total - k);
      expect([...before, ...after]).toEqual(reference);
    }
  });

  it('restores the epoch skip counts so the epoch report is the same after a resume', async () => {
    // With seed 7 the epoch starts r12 r21 r09 ...: failing r09 is counted before any save point.
    const failEarly: RecordTransform<string> = async (record) => {
      if (record.key === 'r09') throw new SkipSample('corrupt_image');
      return record.key;
    };
    const reports: EpochReport[] = [];
    const second = new DataLoader(manifestSource(records), failEarly, options);
    await take(second.epochBatches(), 2);
    expect(second.state().skipped).toEqual({ corrupt_image: 1 });
    const third = new DataLoader(manifestSource(records), failEarly, options, (r) => reports.push(r));
    third.restore(second.state());
    expect((await take(third.epochBatches(), 100)).flat()).not.toContain('r09');
    expect(reports).toEqual([{ epoch: 0, batches: 5, samples: 20, skipped: { corrupt_image: 1 } }]);
  });

  it('filters by split and keeps a short last batch when asked', async () => {
    const loader = new DataLoader(manifestSource(records), async (r) => r.key, {
      batchSize: 5,
      split: 'train',
      dropLast: false,
      shuffle: false,
    });
    const batches = await take(loader.epochBatches(), 100);
    expect(batches).toEqual([
      ['r00', 'r02', 'r04', 'r06', 'r08'],
      ['r10', 'r12', 'r14', 'r16', 'r18'],
      ['r20', 'r22'],
    ]);
  });

  it('counts thrown errors by code and stops the producer when the caller breaks early', async () => {
    let calls = 0;
    const loader = new DataLoader(
      manifestSource(records),
      async (r) => {
        calls++;
        if (r.key === 'r01') throw new Error('boom');
        if (r.key === 'r02') throw Object.assign(new Error('gone'), { code: 'ENOENT' });
        return r.key;
      },
      { batchSize: 2, shuffle: false, prefetch: 1 },
    );
    const batches = await take(loader.epochBatches(), 1);
    expect(batches).toEqual([['r00', 'r03']]);
    expect(loader.state().skipped).toEqual({ missing_image: 1, transform_failed: 1 });
    const seen = calls;
    await new Promise((r) => setTimeout(r, 20));
    expect(calls).toBe(seen);
    expect(calls).toBeLessThanOrEqual(6);
  });

  it('prepares batches ahead while the caller holds one, bounded by prefetch', async () => {
    let calls = 0;
    const loader = new DataLoader(
      manifestSource(records),
      async (r) => {
        calls++;
        return r.key;
      },
      { batchSize: 2, prefetch: 2, shuffle: false },
    );
    const it = loader.epochBatches();
    expect((await it.next()).value?.items).toEqual(['r00', 'r01']);
    // While the caller works on batch 0: batches 1-2 wait in the queue and batch 3 is built, then the producer blocks.
    for (let i = 0; i < 50 && calls < 8; i++) await new Promise((r) => setTimeout(r, 2));
    await new Promise((r) => setTimeout(r, 20));
    expect(calls).toBe(8);
    expect(loader.state().position).toBe(2);
    await it.return(undefined);
  });

  it('streams shards and resumes exactly over them', async () => {
    const { writeManifest } = await import('./manifest.js');
    const { writeFile } = await import('node:fs/promises');
    const rows = [];
    for (let i = 0; i < 17; i++) {
      await writeFile(path.join(dir, `i${i}.png`), new Uint8Array([i, i, i]));
      rows.push({ image: `i${i}.png`, captions: [{ text: `c${i}` }], split: 'train' });
    }
    await writeManifest(path.join(dir, 'm.jsonl'), rows);
    const { shards } = await writeShards({ manifest: path.join(dir, 'm.jsonl'), outDir: path.join(dir, 'shards'), perShard: 5 });
    expect(shards).toHaveLength(4);
    const decode: RecordTransform<number> = (r) => ('bytes' in r.image ? (r.image.bytes[0] as number) : -1);
    const opts: LoaderOptions = { batchSize: 3, seed: 1, shuffleBuffer: 4 };
    const reference = await take(new DataLoader(shardSource(shards), decode, opts).batches(), 9);
    // Epoch 0: 17 records make 5 full batches of 3 (2 dropped), each record at most once.
    const epoch0 = reference.slice(0, 5).flat();
    expect(new Set(epoch0).size).toBe(15);
    expect(epoch0.every((v) => v >= 0 && v < 17)).toBe(true);
    // openSource gives the same stream from the folder name.
    expect(await take(new DataLoader(await openSource(path.join(dir, 'shards')), decode, opts).batches(), 9)).toEqual(reference);
    const first = new DataLoader(shardSource(shards), decode, opts);
    const before = await take(first.batches(), 4);
    const second = new DataLoader(shardSource(shards), decode, opts);
    second.restore(first.state());
    expect([...before, ...(await take(second.batches(), 5))]).toEqual(reference);
  });

  it('opens a manifest by name and reports its skipped rows with every epoch', async () => {
    const { writeFile } = await import('node:fs/promises');
    const file = path.join(dir, 'bad-rows.jsonl');
    await writeFile(
      file,
      ['{"image": "a.png", "caption": "a"}', '{"image": "b.png", "caption": "b"}', 'not json', '{"image": "c.png"}'].join('\n'),
    );
    const reports: EpochReport[] = [];
    const source = await openSource(file);
    const loader = new DataLoader(
      source,
      (r) => r.key,
      { batchSize: 1, shuffle: false },
      (r) => reports.push(r),
    );
    expect((await take(loader.epochBatches(), 10)).flat()).toEqual(['a.png', 'b.png']);
    expect(reports).toEqual([{ epoch: 0, batches: 2, samples: 2, skipped: { empty_caption: 1, malformed_line: 1 } }]);
  });

  it('fails with E_INPUT instead of spinning when a whole epoch gives no batch', async () => {
    const loader = new DataLoader(manifestSource(records), transform, { batchSize: 2, split: 'validation' });
    await expect(take(loader.batches(), 1)).rejects.toMatchObject({ code: 'E_INPUT' });
  });

  it('rejects bad options and states with E_CONFIG, and a second concurrent iteration with E_STATE', async () => {
    expect(() => new DataLoader(manifestSource(records), transform, { batchSize: 0 })).toThrow(
      expect.objectContaining({ code: 'E_CONFIG' }),
    );
    const loader = new DataLoader(manifestSource(records), transform, options);
    expect(() => loader.restore({ ...loader.state(), position: -1 })).toThrow(expect.objectContaining({ code: 'E_CONFIG' }));
    const it1 = loader.epochBatches();
    await it1.next();
    await expect(loader.epochBatches().next()).rejects.toMatchObject({ code: 'E_STATE' });
    expect(() => loader.restore(loader.state())).toThrow(expect.objectContaining({ code: 'E_STATE' }));
    await it1.return(undefined);
    expect(new SkipCounter().toString()).toBe('0 skipped');
  });
});
