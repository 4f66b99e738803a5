import { initBackend, SeededRandom, tf } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { type EpochPosition, EpochSource } from './epochSource.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

/** Epoch e's order as the CLIP, finetune and captioning sources drew it before they shared this one. */
const permutation = (seed: number, epoch: number, n: number) => new SeededRandom(seed).fork(`epoch-${epoch}`).permutation(n);

interface Seen {
  indices: number[];
  at: EpochPosition;
}

const recording = (options: { samples: number; batchSize: number; seed: number; dropLast?: boolean; rank?: number; worldSize?: number }) =>
  new EpochSource<Seen>({ ...options, build: (indices, at) => ({ indices, at }) });

async function drain<B, T>(source: EpochSource<B, T>, calls: number): Promise<Array<B | null>> {
  const out: Array<B | null> = [];
  for (let i = 0; i < calls; i++) out.push(await source.next());
  return out;
}

describe('EpochSource', () => {
  it('visits each epoch in the seeded permutation, batchSize at a time, keeping the last short batch', async () => {
    const p0 = permutation(7, 0, 10);
    const p1 = permutation(7, 1, 10);
    expect([...p0].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(p1).not.toEqual(p0);
    const source = recording({ samples: 10, batchSize: 4, seed: 7 });
    expect(source.batchesPerEpoch).toBe(3);
    expect(await drain(source, 6)).toEqual([
      { indices: p0.slice(0, 4), at: { epoch: 0, position: 0 } },
      { indices: p0.slice(4, 8), at: { epoch: 0, position: 4 } },
      { indices: p0.slice(8, 10), at: { epoch: 0, position: 8 } },
      null,
      { indices: p1.slice(0, 4), at: { epoch: 1, position: 0 } },
      { indices: p1.slice(4, 8), at: { epoch: 1, position: 4 } },
    ]);
    expect(source.state()).toEqual({ epoch: 1, position: 8 });
  });

  it('with dropLast ends the epoch before a short batch', async () => {
    const source = recording({ samples: 10, batchSize: 4, seed: 3, dropLast: true });
    expect(source.batchesPerEpoch).toBe(2);
    const got = await drain(source, 4);
    expect(got.map((b) => b?.indices ?? null)).toEqual([
      permutation(3, 0, 10).slice(0, 4),
      permutation(3, 0, 10).slice(4, 8),
      null,
      permutation(3, 1, 10).slice(0, 4),
    ]);
    // A multiple of the batch size loses nothing.
    const exact = recording({ samples: 8, batchSize: 4, seed: 3, dropLast: true });
    expect((await drain(exact, 3)).map((b) => b?.indices.length ?? null)).toEqual([4, 4, null]);
  });

  it('gives the builder the items of a list, or natural order without shuffle', async () => {
    const words = ['a', 'b', 'c', 'd', 'e'];
    const listed = new EpochSource({ samples: words, batchSize: 2, seed: 1, build: (items: string[]) => items.join('') });
    const p = permutation(1, 0, 5).map((i) => words[i]);
    expect(await drain(listed, 4)).toEqual([`${p[0]}${p[1]}`, `${p[2]}${p[3]}`, p[4], null]);
    const sequential = new EpochSource({ samples: 5, batchSize: 2, shuffle: false, build: (indices) => indices });
    expect(await drain(sequential, 5)).toEqual([[0, 1], [2, 3], [4], null, [0, 1]]);
  });

  it('resumes mid-epoch exactly from a JSON state, across the epoch end', async () => {
    const reference = await drain(recording({ samples: 10, batchSize: 3, seed: 11 }), 12);
    const first = recording({ samples: 10, batchSize: 3, seed: 11 });
    expect(await drain(first, 2)).toEqual(reference.slice(0, 2));
    const saved = JSON.parse(JSON.stringify(first.state()));
    expect(saved).toEqual({ epoch: 0, position: 6 });
    const second = recording({ samples: 10, batchSize: 3, seed: 11 });
    second.restore(saved);
    expect(await drain(second, 10)).toEqual(reference.slice(2));
    // Restoring an earlier epoch into a source that has moved on replays that epoch's order.
    second.restore({ epoch: 0, position: 3 });
    expect(await drain(second, 1)).toEqual(reference.slice(1, 2));
    expect(() => second.restore({ epoch: 1 })).toThrow(expect.objectContaining({ code: 'E_INPUT' }));
    expect(() => second.restore(null)).toThrow(expect.objectContaining({ code: 'E_INPUT' }));
  });

  it('splits every epoch across ranks so that each sample is seen exactly once', async () => {
    const order = permutation(5, 0, 10);
    const ranks = [0, 1, 2].map((rank) => recording({ samples: 10, batchSize: 2, seed: 5, rank, worldSize: 3 }));
    expect(ranks.map((r) => [r.samplesPerEpoch, r.batchesPerEpoch])).toEqual([
      [4, 2],
      [3, 2],
      [3, 2],
    ]);
    const seen = await Promise.all(ranks.map(async (r) => (await drain(r, 3)).flatMap((b) => b?.indices ?? [])));
    // Rank r takes places r, r + 3, r + 6, ... of the shared order (DistributedSampler's stride).
    expect(seen).toEqual([
      [order[0], order[3], order[6], order[9]],
      [order[1], order[4], order[7]],
      [order[2], order[5], order[8]],
    ]);
    expect(seen.flat().sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const whole = recording({ samples: 10, batchSize: 2, seed: 5, rank: 0, worldSize: 1 });
    expect((await drain(whole, 5)).flatMap((b) => b?.indices ?? [])).toEqual(order);
    expect(() => recording({ samples: 10, batchSize: 2, seed: 5, rank: 3, worldSize: 3 })).toThrow(/rank: rank must be below worldSize/);
  });

  it('keeps keepAlive issued batches alive, then disposes them, and frees the rest on dispose()', async () => {
    const before = tf.memory().numTensors;
    const source = new EpochSource({
      samples: 5,
      batchSize: 2,
      seed: 0,
      keepAlive: 2,
      build: (indices) => ({ x: tf.tensor1d(indices, 'int32'), parts: [tf.scalar(indices.length)], size: indices.length }),
    });
    const a = await source.next();
    const b = await source.next();
    expect(tf.memory().numTensors).toBe(before + 4);
    expect(a?.x.isDisposed).toBe(false);
    const c = await source.next();
    // a is gone with its nested tensor; b (the accumulation still holds it) and c are alive.
    expect([a?.x.isDisposed, a?.parts[0]?.isDisposed, b?.x.isDisposed, c?.x.isDisposed]).toEqual([true, true, false, false]);
    expect(await source.next()).toBeNull();
    expect([b?.x.isDisposed, c?.x.isDisposed]).toEqual([true, false]);
    source.dispose();
    expect(c?.x.isDisposed).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses bad options with the path of the bad field', () => {
    expect(() => recording({ samples: 10, batchSize: 0, seed: 0 })).toThrow(/batchSize/);
    expect(() => recording({ samples: -1, batchSize: 2, seed: 0 })).toThrow(expect.objectContaining({ code: 'E_CONFIG' }));
  });
});
