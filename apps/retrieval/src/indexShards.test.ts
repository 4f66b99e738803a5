import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { initBackend, isTesseraError } from '@tessera/core';
import { openStore } from '@tessera/index';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CAPTIONS, COLOURS, type Fixture, makeFixture } from '../test/fixture.js';
import { createRetrievalCommands } from './commands.js';
import { Embedder } from './embedder.js';
import { listImages } from './imageSource.js';
import { indexImages } from './indexImages.js';
import { inShard, parseShard, shardOf } from './shard.js';

const run = promisify(execFile);
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const child = fileURLToPath(new URL('../test/runCommands.ts', import.meta.url));

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

/** `tessera index ... --shard i/n --json` as a child process; resolves with its JSON report. */
async function indexShard(store: string, shard: string): Promise<Record<string, unknown>> {
  const args = ['index', '--checkpoint', fx.model, '--images', fx.images, '--store', store, '--kind', 'lance', '--shard', shard, '--json'];
  const { stdout } = await run(process.execPath, ['--import', tsx, '--conditions=development', child, ...args], {
    env: { ...process.env, CI: '1' },
  });
  return JSON.parse(stdout);
}

describe('shards', () => {
  it('parses i/n and refuses anything else with E_CONFIG', () => {
    expect(parseShard('1/2')).toEqual({ index: 1, count: 2 });
    expect(parseShard('0/1')).toEqual({ index: 0, count: 1 });
    for (const bad of ['3/2', '2/2', '0/0', 'x', '1', '-1/2', '1/2/3', '']) {
      let error: unknown;
      try {
        parseShard(bad);
      } catch (e) {
        error = e;
      }
      expect(isTesseraError(error, 'E_CONFIG'), bad).toBe(true);
    }
  });

  it('assigns ids by the first 4 bytes of their SHA-256 (values from Python hashlib)', () => {
    // int.from_bytes(hashlib.sha256(id.encode()).digest()[:4], 'big'): red.png 3271596584,
    // blue.png 176027881, sub/yellow.png 3517753119.
    expect(shardOf('red.png', 2)).toBe(3271596584 % 2);
    expect(shardOf('red.png', 3)).toBe(3271596584 % 3);
    expect(shardOf('blue.png', 7)).toBe(176027881 % 7);
    expect(shardOf('sub/yellow.png', 5)).toBe(3517753119 % 5);
    expect(inShard('red.png', { index: 0, count: 2 })).toBe(true);
    expect(inShard('red.png', { index: 1, count: 2 })).toBe(false);
  });
});

describe('tessera index --shard', () => {
  it('fails at parse time on a bad --shard, before loading anything', async () => {
    // The checkpoint does not exist: an error from the action would be E_IO, not E_CONFIG.
    const args = ['index', '--checkpoint', path.join(fx.dir, 'nowhere'), '--images', fx.images, '--store', path.join(fx.dir, 'bad.lance')];
    for (const bad of ['3/2', '0/0', 'x']) {
      const program = new Command('tessera').exitOverride();
      for (const command of createRetrievalCommands()) program.addCommand(command.exitOverride());
      const error = await program.parseAsync([...args, '--shard', bad], { from: 'user' }).catch((e: unknown) => e);
      expect(isTesseraError(error, 'E_CONFIG'), bad).toBe(true);
      expect((error as Error).message).toBe(`--shard must be i/n with 0 <= i < n (e.g. 0/4 for the first of 4 indexers), got '${bad}'`);
    }
    // As a process: the code and message on stderr, exit status 1.
    const failed = await run(process.execPath, ['--import', tsx, '--conditions=development', child, ...args, '--shard', '3/2']).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect((failed as { code: number }).code).toBe(1);
    expect((failed as { stderr: string }).stderr).toContain(
      "error [E_CONFIG]: --shard must be i/n with 0 <= i < n (e.g. 0/4 for the first of 4 indexers), got '3/2'",
    );
  });

  it('a shard leaves the entries of other shards alone: it neither re-embeds nor deletes them', async () => {
    const store = await openStore(path.join(fx.dir, 'whole.lance'), {
      create: { kind: 'lance', modelId: embedder.modelId, dim: embedder.dim },
    });
    const listing = await listImages(fx.images);
    await indexImages({ embedder, store, listing });
    // Shard 0/2 sees only red.png (and the two bad files); the four images of 1/2 are not its business.
    const report = await indexImages({ embedder, store, listing, shard: { index: 0, count: 2 } });
    expect(report).toMatchObject({ total: 3, added: 0, updated: 0, unchanged: 1, deleted: 0 });
    // Without green.png in the listing, only its own shard (1/2) drops it.
    const withoutGreen = { ...listing, images: listing.images.filter((image) => image.id !== 'green.png') };
    expect(await indexImages({ embedder, store, listing: withoutGreen, shard: { index: 0, count: 2 } })).toMatchObject({ deleted: 0 });
    expect(await store.count()).toBe(5);
    expect(await indexImages({ embedder, store, listing: withoutGreen, shard: { index: 1, count: 2 } })).toMatchObject({
      unchanged: 3,
      deleted: 1,
    });
    expect(await store.has('green.png')).toBe(false);
    expect(await store.count()).toBe(4);
    await store.close();
  });

  it('two processes index halves into one LanceDB table: each image once, reruns add nothing, search as one process', async () => {
    const store = path.join(fx.dir, 'sharded.lance');
    // Started together, so both race to create the table.
    const first = await Promise.all([indexShard(store, '0/2'), indexShard(store, '1/2')]);
    // By the hashes (Python hashlib): red.png and the two bad files are in 0/2, the other four images in 1/2.
    expect(first[0]).toMatchObject({ total: 3, added: 1, deleted: 0 });
    expect(first[0]?.skipped).toEqual({ E_IMAGE_UNRECOGNIZED: 1, E_FILE_EMPTY: 1 });
    expect(first[1]).toMatchObject({ total: 4, added: 4, deleted: 0, skipped: {} });

    const sharded = await openStore(store);
    const ids = (await sharded.entries()).map((e) => e.id).sort();
    expect(ids).toEqual(Object.keys(COLOURS).sort());
    expect(await sharded.count()).toBe(5);

    const again = await Promise.all([indexShard(store, '0/2'), indexShard(store, '1/2')]);
    expect(again[0]).toMatchObject({ added: 0, updated: 0, unchanged: 1, deleted: 0, count: 5 });
    expect(again[1]).toMatchObject({ added: 0, updated: 0, unchanged: 4, deleted: 0, count: 5 });
    expect(await sharded.count()).toBe(5);

    // One process over every image, with the same model: the same hits with the same scores.
    const single = await openStore(path.join(fx.dir, 'single.lance'), {
      create: { kind: 'lance', modelId: embedder.modelId, dim: embedder.dim },
    });
    await indexImages({ embedder, store: single, listing: await listImages(fx.images) });
    for (const [i, query] of embedder.embedTexts(CAPTIONS).entries()) {
      const want = await single.search(embedder.modelId, query as Float32Array, 5);
      const got = await sharded.search(embedder.modelId, query as Float32Array, 5);
      expect(
        got.map((h) => h.id),
        CAPTIONS[i],
      ).toEqual(want.map((h) => h.id));
      for (const [j, hit] of got.entries()) expect(hit.score).toBeCloseTo(want[j]?.score as number, 6);
    }
    await single.close();
    await sharded.close();
  });
});
