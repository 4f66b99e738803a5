import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { initBackend } from '@tessera/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EpochPosition } from './epochSource.js';
import { writeManifest } from './manifest.js';
import type { DataRecord } from './record.js';
import { ShardEpochSource } from './shardEpochSource.js';
import { splitShards } from './shardSplit.js';
import { readShard, writeShards } from './shards.js';
import { SkipCounter, SkipSample } from './skipCounter.js';

const N = 20;
let dir: string;
let shards: string[];

/** 20 samples (keys 000000000..000000019, caption `c<i>`) in 7 shards of 3, the last of 2. */
beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  dir = await mkdtemp(path.join(tmpdir(), 'tessera-shard-epochs-'));
  const rows = [];
  for (let i = 0; i < N; i++) {
    await writeFile(path.join(dir, `im${i}.png`), new Uint8Array(64).fill(i));
    rows.push({ image: `im${i}.png`, captions: [{ text: `c${i}` }] });
  }
  await writeManifest(path.join(dir, 'm.jsonl'), rows);
  shards = (await writeShards({ manifest: path.join(dir, 'm.jsonl'), outDir: path.join(dir, 'shards'), perShard: 3 })).shards;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Seen {
  keys: string[];
  at: EpochPosition;
}

/** A source whose samples are the record keys; `prepared` lists every record it prepared. */
function keysSource(options: { shards?: string[]; buffer?: number; seed?: number; batchSize?: number; shuffle?: boolean }) {
  const prepared: string[] = [];
  const source = new ShardEpochSource<Seen, string>({
    shards: options.shards ?? shards,
    batchSize: options.batchSize ?? 3,
    seed: options.seed ?? 5,
    shuffle: options.shuffle ?? true,
    shuffleBuffer: options.buffer ?? 4,
    prepare: (r: DataRecord) => {
      prepared.push(r.key);
      return r.key;
    },
    build: (keys, at) => ({ keys, at }),
  });
  return { source, prepared };
}

async function drain(source: ShardEpochSource<Seen, string>, calls: number): Promise<Array<Seen | null>> {
  const out: Array<Seen | null> = [];
  for (let i = 0; i < calls; i++) out.push(await source.next());
  return out;
}

/** The keys of an epoch in stream order (shards in the source's order, samples in shard order). */
async function streamOrder(source: ShardEpochSource<Seen, string>, epoch: number): Promise<string[]> {
  const keys: string[] = [];
  for (const shard of source.shardOrder(epoch)) for await (const r of readShard(shard, new SkipCounter())) keys.push(r.key);
  return keys;
}

const all = Array.from({ length: N }, (_, i) => String(i).padStart(9, '0'));
const sorted = (keys: string[]) => [...keys].sort();

describe('ShardEpochSource', () => {
  it('draws every sample once per epoch through a bounded buffer, in a seeded shard order', async () => {
    const { source, prepared } = keysSource({ buffer: 4 });
    // 20 samples, batches of 3: 6 batches, the short last one (2) is dropped.
    const epoch0 = await drain(source, 7);
    expect(epoch0.map((b) => b?.keys.length ?? null)).toEqual([3, 3, 3, 3, 3, 3, null]);
    expect(epoch0.slice(0, 6).map((b) => b?.at)).toEqual([0, 3, 6, 9, 12, 15].map((position) => ({ epoch: 0, position })));
    expect(sorted(prepared)).toEqual(all);
    expect(source.stats().samples).toBe(18);

    // Never more than 4 records held: the sample drawn j-th was at most the (j + 3)-th read.
    expect(source.peakBuffered).toBe(4);
    const stream = await streamOrder(source, 0);
    expect(sorted(stream)).toEqual(all);
    const lag = prepared.map((key, j) => stream.indexOf(key) - j);
    expect(Math.max(...lag)).toBeLessThanOrEqual(3);
    // The shard order and the sample order are shuffled, and differ between epochs.
    expect(source.shardOrder(0)).not.toEqual(shards);
    expect(sorted(source.shardOrder(0))).toEqual(sorted(shards));
    expect(prepared).not.toEqual(stream);
    const epoch1 = await drain(source, 1);
    expect(epoch1[0]?.at).toEqual({ epoch: 1, position: 0 });
    expect(source.shardOrder(1)).not.toEqual(source.shardOrder(0));

    // The same seed gives the same batches; without shuffle, shards and samples in order.
    const again = keysSource({ buffer: 4 });
    expect(await drain(again.source, 7)).toEqual(epoch0);
    const plain = keysSource({ shuffle: false });
    expect((await drain(plain.source, 2)).map((b) => b?.keys)).toEqual([all.slice(0, 3), all.slice(3, 6)]);
    expect(plain.source.peakBuffered).toBe(1);
  });

  it('restores a state exactly, skipping ahead without preparing the records already drawn', async () => {
    const whole = keysSource({ buffer: 5 });
    const uninterrupted = await drain(whole.source, 12);

    for (const stopAfter of [2, 8]) {
      const first = keysSource({ buffer: 5 });
      const head = await drain(first.source, stopAfter);
      const state = JSON.parse(JSON.stringify(first.source.state()));
      first.source.dispose();
      const resumed = keysSource({ buffer: 5 });
      resumed.source.restore(state);
      const tail = await drain(resumed.source, 12 - stopAfter);
      expect([...head, ...tail]).toEqual(uninterrupted);
      // Prepared only what it handed out (and epoch 0's dropped tail when it resumed in epoch 0).
      const handed = tail.reduce((n, b) => n + (b?.keys.length ?? 0), 0);
      expect(resumed.prepared.length).toBe(handed + (stopAfter < 6 ? 2 : 0));
      resumed.source.dispose();
    }
  });

  it('two ranks of worldSize 2 draw disjoint samples whose union is the whole set', async () => {
    const seen: string[][] = [];
    for (const rank of [0, 1]) {
      const { source, prepared } = keysSource({ shards: splitShards(shards, { rank, worldSize: 2 }), batchSize: 2 });
      for (let b = await source.next(); b !== null; b = await source.next());
      seen.push(prepared);
    }
    const [a, b] = seen as [string[], string[]];
    // Rank 0 reads shards 0, 2, 4, 6 (3 + 3 + 3 + 2 samples), rank 1 shards 1, 3, 5.
    expect([a.length, b.length]).toEqual([11, 9]);
    expect(a.filter((k) => b.includes(k))).toEqual([]);
    expect(sorted([...a, ...b])).toEqual(all);
  });

  it('skips and counts samples the preparer rejects and shards that are missing, per epoch', async () => {
    const missing = path.join(dir, 'gone', 'shard-000099.tar');
    await mkdir(path.dirname(missing), { recursive: true });
    const source = new ShardEpochSource<Seen, string>({
      shards: [...shards, missing],
      batchSize: 4,
      seed: 1,
      shuffleBuffer: 6,
      prepare: (r) => {
        if (r.captions[0]?.text === 'c7') throw new SkipSample('decode_error', 'bad image');
        return r.key;
      },
      build: (keys, at) => ({ keys, at }),
    });
    const batches = await drain(source, 5);
    // 19 usable samples: 4 full batches, 3 dropped.
    expect(batches.map((b) => b?.keys.length ?? null)).toEqual([4, 4, 4, 4, null]);
    expect(batches.flatMap((b) => b?.keys ?? [])).not.toContain(all[7]);
    expect(source.stats().skipped.counts()).toEqual({ decode_error: 1, missing_shard: 1 });
    expect(source.stats().samples).toBe(16);
  });
});
