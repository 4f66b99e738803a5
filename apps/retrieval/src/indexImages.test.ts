import { readFile, rm, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { initBackend } from '@tessera/core';
import { openStore, type VectorStore } from '@tessera/index';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COLOURS, type Fixture, makeFixture, pngOf } from '../test/fixture.js';
import { Embedder } from './embedder.js';
import { listImages } from './imageSource.js';
import { indexImages } from './indexImages.js';

let fx: Fixture;
let embedder: Embedder;

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  fx = await makeFixture();
  embedder = await Embedder.load(fx.model);
});
afterAll(async () => {
  embedder.dispose();
  await rm(fx.dir, { recursive: true, force: true });
});

function unit(v: Float32Array): number[] {
  const n = Math.hypot(...v);
  return [...v].map((x) => x / n);
}

async function freshStore(name: string): Promise<VectorStore> {
  return openStore(path.join(fx.dir, name), { create: { kind: 'exact', modelId: embedder.modelId, dim: embedder.dim } });
}

describe('indexImages', () => {
  it('embeds every readable image once, counts bad files by reason, and stores what the model computes', async () => {
    const store = await freshStore('a.tsv');
    const report = await indexImages({ embedder, store, listing: await listImages(fx.images), batchSize: 2 });
    expect(report).toMatchObject({ total: 7, added: 5, updated: 0, unchanged: 0, deleted: 0 });
    expect(report.skipped).toEqual({ E_IMAGE_UNRECOGNIZED: 1, E_FILE_EMPTY: 1 });
    expect(await store.count()).toBe(5);
    const ids = (await store.entries()).map((e) => e.id).sort();
    expect(ids).toEqual(Object.keys(COLOURS).sort());
    // The stored vector is the model's embedding of the file, computed here on its own.
    const red = await store.get('red.png');
    const direct = embedder.embedImages([await embedder.decode(path.join(fx.images, 'red.png'))])[0] as Float32Array;
    const expected = unit(direct);
    for (const [i, x] of [...(red?.vector ?? [])].entries()) expect(x).toBeCloseTo(expected[i] as number, 5);
    await store.close();
  });

  it('is incremental: unchanged files are skipped, changed ones re-embedded, vanished ones deleted', async () => {
    const store = await freshStore('b.tsv');
    await indexImages({ embedder, store, listing: await listImages(fx.images) });
    const again = await indexImages({ embedder, store, listing: await listImages(fx.images) });
    expect(again).toMatchObject({ added: 0, updated: 0, unchanged: 5, deleted: 0 });

    const blueBefore = (await store.get('blue.png'))?.vector;
    const later = new Date(Date.now() + 60_000);
    await utimes(path.join(fx.images, 'blue.png'), later, later); // touched, same bytes
    await writeFile(path.join(fx.images, 'green.png'), await pngOf([240, 240, 240])); // new content
    await unlink(path.join(fx.images, 'sub/black.png'));
    const third = await indexImages({ embedder, store, listing: await listImages(fx.images) });
    // red, yellow and the touched blue keep their vectors; green is re-embedded; black is gone.
    expect(third).toMatchObject({ added: 0, updated: 1, unchanged: 3, deleted: 1 });
    expect((await store.get('blue.png'))?.vector).toEqual(blueBefore);
    const blueMtime = (await stat(path.join(fx.images, 'blue.png'))).mtimeMs;
    expect((await store.entries()).find((e) => e.id === 'blue.png')?.mtime).toBe(blueMtime);
    expect(await store.has('sub/black.png')).toBe(false);
    expect(await store.count()).toBe(4);

    await writeFile(path.join(fx.images, 'green.png'), await pngOf(COLOURS['green.png'] as [number, number, number]));
    await writeFile(path.join(fx.images, 'sub/black.png'), await pngOf(COLOURS['sub/black.png'] as [number, number, number]));
    await store.close();
  });

  it('can be interrupted and rerun without duplicates', async () => {
    const storePath = path.join(fx.dir, 'c.tsv');
    const store = await freshStore('c.tsv');
    let upserts = 0;
    const failing: VectorStore = Object.create(store, {
      upsert: {
        value: async (...args: Parameters<VectorStore['upsert']>) => {
          if (++upserts === 2) throw new Error('simulated crash');
          return store.upsert(...args);
        },
      },
    });
    await expect(
      indexImages({ embedder, store: failing, listing: await listImages(fx.images), batchSize: 2, flushIntervalMs: 0 }),
    ).rejects.toThrow('simulated crash');
    await store.close();
    // Sorted ids: the first batch is blue.png + broken.png, so one vector was flushed before the
    // crash in the second batch; the rerun embeds only the other four.
    const reopened = await openStore(storePath);
    expect((await reopened.entries()).map((e) => e.id)).toEqual(['blue.png']);
    const report = await indexImages({ embedder, store: reopened, listing: await listImages(fx.images), batchSize: 2 });
    expect(report).toMatchObject({ added: 4, unchanged: 1 });
    const ids = (await reopened.entries()).map((e) => e.id);
    expect(ids.length).toBe(5);
    expect(new Set(ids).size).toBe(5);
    await reopened.close();
  });

  it('reads a manifest: ids relative to it, first caption kept, missing files reported', async () => {
    const manifest = path.join(fx.images, 'm.jsonl');
    await writeFile(
      manifest,
      [
        JSON.stringify({ image: 'red.png', caption: 'a red heart' }),
        JSON.stringify({ image: 'sub/yellow.png', captions: [{ text: 'a yellow star', lang: 'en' }] }),
        JSON.stringify({ image: 'missing.png', caption: 'gone' }),
        JSON.stringify({ image: '../secret.png', caption: 'outside' }),
      ].join('\n'),
    );
    const store = await freshStore('d.tsv');
    const report = await indexImages({ embedder, store, listing: await listImages(manifest) });
    expect(report).toMatchObject({ total: 4, added: 2 });
    expect(report.skipped).toEqual({ E_FILE_NOT_FOUND: 1, E_OUTSIDE_ROOT: 1 });
    expect((await store.get('red.png'))?.caption).toBe('a red heart');
    await store.close();
    await unlink(manifest);
    expect(await readFile(fx.secret)).toBeTruthy();
  });
});
