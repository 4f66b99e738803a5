import { mkdir, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import path from 'node:path';
import { initBackend } from '@tessera/core';
import { type ExactStore, openStore, type StoreInfo, type VectorStore } from '@tessera/index';
import type { Tokenizer } from '@tessera/tokenizer';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fixture, makeFixture, pngOf } from '../test/fixture.js';
import { Embedder } from './embedder.js';
import { listImages } from './imageSource.js';
import { indexImages } from './indexImages.js';
import { RetrievalService } from './retrievalService.js';
import { createApp, createServerApp, DEFAULT_LIMITS, type RunningServer, startServer } from './server.js';
import { writeSidecar } from './storeRoots.js';

let fx: Fixture;
let service: RetrievalService;
let server: RunningServer;
let storePath: string;

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  fx = await makeFixture();
  storePath = path.join(fx.dir, 'store.tsv');
  const embedder = await Embedder.load(fx.model);
  const store = await openStore(storePath, { create: { kind: 'exact', modelId: embedder.modelId, dim: embedder.dim } });
  const listing = await listImages(fx.images);
  await indexImages({ embedder, store, listing });
  await writeSidecar(storePath, { roots: [listing.root], checkpoint: fx.model });
  await store.close();
  embedder.dispose();
  service = await RetrievalService.open(storePath);
  server = await startServer(createApp(service, { ...DEFAULT_LIMITS, maxBodyBytes: 64 * 1024, maxK: 20, maxQueryChars: 100 }), {
    port: 0,
  });
});
afterAll(async () => {
  await server?.close();
  await service?.close();
  await rm(fx.dir, { recursive: true, force: true });
});

const postJson = (body: unknown) =>
  fetch(`${server.url}/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** A raw GET that sends the path exactly as written (fetch would normalise `..`). */
function rawGet(rawPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: server.port, path: rawPath, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s / (Math.hypot(...a) * Math.hypot(...b));
}

describe('RetrievalService', () => {
  it('ranks images by the cosine of text and image embeddings, as computed directly from the model', async () => {
    const { embedder } = service;
    const query = embedder.embedTexts(['a red heart'])[0] as Float32Array;
    const ids = ['red.png', 'blue.png', 'green.png', 'sub/yellow.png', 'sub/black.png'];
    const images = await Promise.all(ids.map((id) => embedder.decode(path.join(fx.images, id))));
    const vectors = embedder.embedImages(images);
    const expected = ids.map((id, i) => ({ id, score: dot(query, vectors[i] as Float32Array) })).sort((a, b) => b.score - a.score);
    const hits = await service.searchText('a red heart', 5);
    expect(hits.map((h) => h.id)).toEqual(expected.map((e) => e.id));
    for (const [i, h] of hits.entries()) expect(h.score).toBeCloseTo(expected[i]?.score as number, 4);
  });

  it('finds an indexed image first when queried with the same image (cosine 1)', async () => {
    const [top] = await service.searchImage(path.join(fx.images, 'sub/yellow.png'), 3);
    expect(top?.id).toBe('sub/yellow.png');
    expect(top?.score).toBeCloseTo(1, 4);
  });

  it('tokenizes Chinese queries into known characters, not [UNK]', async () => {
    const tokenizer = service.embedder.tokenizer as Tokenizer;
    const unk = tokenizer.tokenToId('[UNK]');
    const ids = tokenizer.encode('红心').ids;
    expect(ids.length).toBeGreaterThan(2);
    expect(ids).not.toContain(unk);
    const hits = await service.searchText('红心', 3);
    expect(hits).toHaveLength(3);
  });

  it('refuses a store built by another checkpoint', async () => {
    const other = path.join(fx.dir, 'other.tsv');
    const store = await openStore(other, { create: { kind: 'exact', modelId: 'someone-else@1', dim: service.embedder.dim } });
    await store.close();
    await expect(RetrievalService.open(other, fx.model)).rejects.toMatchObject({ code: 'E_STORE_MODEL' });
  });

  it('serves the same hits from an int8 scan as from the float32 one', async () => {
    const int8 = await RetrievalService.open(storePath, undefined, { scan: 'int8' });
    try {
      expect((int8.store as ExactStore).scan).toBe('int8');
      for (const text of ['a red heart', 'a blue circle', '红心']) {
        const want = await service.searchText(text, 5);
        const got = await int8.searchText(text, 5);
        expect(got.map((h) => h.id)).toEqual(want.map((h) => h.id));
        got.forEach((h, i) => {
          expect(h.score).toBeCloseTo(want[i]?.score as number, 6);
        });
      }
    } finally {
      await int8.close();
    }
  });
});

describe('HTTP server', () => {
  it('reports health and serves the page', async () => {
    const health = await (await fetch(`${server.url}/health`)).json();
    expect(health).toMatchObject({ status: 'ok', count: 5, store: 'exact', model: service.embedder.modelId });
    const page = await fetch(`${server.url}/`);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('id="query"');
  });

  it('answers a text search with the same ranking as the service, and thumbnails that decode', async () => {
    const response = await postJson({ text: 'a red heart', k: 3 });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { results: { id: string; score: number; thumbnail: string }[] };
    const direct = await service.searchText('a red heart', 3);
    expect(body.results.map((r) => r.id)).toEqual(direct.map((h) => h.id));
    const thumb = await fetch(`${server.url}${body.results[0]?.thumbnail}`);
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get('content-type')).toBe('image/png');
    const meta = await sharp(new Uint8Array(await thumb.arrayBuffer())).metadata();
    expect(meta.width).toBe(16); // never enlarged past the 16x16 original
    expect(JSON.stringify(body)).not.toContain(fx.dir); // no filesystem paths leak
  });

  it('answers an uploaded image with that image first', async () => {
    const form = new FormData();
    form.append('image', new Blob([new Uint8Array(await pngOf([20, 40, 220]))], { type: 'image/png' }), 'q.png');
    form.append('k', '2');
    const response = await fetch(`${server.url}/search`, { method: 'POST', body: form });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { results: { id: string; score: number }[] };
    expect(body.results).toHaveLength(2);
    expect(body.results[0]?.id).toBe('blue.png');
  });

  it.each([
    ['k below 1', { text: 'a red heart', k: 0 }, 'k'],
    ['k above the limit', { text: 'a red heart', k: 21 }, 'k'],
    ['fractional k', { text: 'a red heart', k: 2.5 }, 'k'],
    ['a missing text', { k: 3 }, 'text'],
    ['a blank text', { text: '   ' }, 'text'],
    ['a text over the length limit', { text: 'x'.repeat(101) }, 'text'],
    ['an unknown field', { text: 'heart', kk: 3 }, 'kk'],
  ])('rejects %s with 400 and the reason', async (_name, body, field) => {
    const response = await postJson(body);
    expect(response.status).toBe(400);
    const error = (await response.json()) as { message: string };
    expect(error.message).toContain(field);
  });

  it('rejects malformed bodies: invalid JSON, wrong content type, upload without image, undecodable upload', async () => {
    const badJson = await fetch(`${server.url}/search`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"text":',
    });
    expect(badJson.status).toBe(400);
    const plain = await fetch(`${server.url}/search`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'heart' });
    expect(plain.status).toBe(400);
    const noImage = new FormData();
    noImage.append('k', '3');
    const missing = await fetch(`${server.url}/search`, { method: 'POST', body: noImage });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { message: string }).message).toContain('image');
    const junk = new FormData();
    junk.append('image', new Blob(['not an image at all']), 'junk.png');
    const undecodable = await fetch(`${server.url}/search`, { method: 'POST', body: junk });
    expect(undecodable.status).toBe(400);
    expect(((await undecodable.json()) as { error: string }).error).toBe('E_IMAGE_UNRECOGNIZED');
  });

  it('refuses bodies over the size limit with 413', async () => {
    const response = await postJson({ text: 'x'.repeat(70 * 1024) });
    expect(response.status).toBe(413);
  });

  it('serves only indexed images from inside the roots: traversal attempts get no file', async () => {
    const secret = path.basename(fx.secret);
    for (const attempt of [
      `/images/..%2F${secret}`,
      `/images/../${secret}`,
      `/images/%2e%2e%2f${secret}`,
      `/images/${encodeURIComponent(fx.secret)}`,
      `/images/sub%2F..%2F..%2F${secret}`,
      '/images/..%2F..%2F..%2F..%2Fetc%2Fpasswd',
      '/images/%00',
    ]) {
      const { status, body } = await rawGet(attempt);
      expect([400, 403, 404], attempt).toContain(status);
      expect(body, attempt).not.toContain('PNG');
      expect(body, attempt).not.toContain('root:');
    }
  });

  it('refuses an indexed file that was replaced by a link out of the roots (403)', async () => {
    const target = path.join(fx.images, 'sub/black.png');
    await unlink(target);
    await symlink(fx.secret, target);
    const { status } = await rawGet('/images/sub%2Fblack.png');
    expect(status).toBe(403);
    await unlink(target);
    const gone = await rawGet('/images/sub%2Fblack.png');
    expect(gone.status).toBe(403); // a vanished file is not served either
  });

  it('gives every one of many concurrent searches the answer it gets alone', async () => {
    const queries = ['a red heart', 'a blue circle', '红心', 'green', 'a yellow star', '蓝色圆圈'];
    const alone = new Map<string, string>();
    for (const q of queries)
      alone.set(q, JSON.stringify(((await (await postJson({ text: q, k: 5 })).json()) as { results: unknown }).results));
    const png = new Uint8Array(await pngOf([230, 20, 30]));
    const imageAlone = await service.searchImage(png, 5);
    const runs = Array.from({ length: 48 }, async (_, i) => {
      if (i % 4 === 3) {
        const form = new FormData();
        form.append('image', new Blob([png]), 'red.png');
        form.append('k', '5');
        const body = (await (await fetch(`${server.url}/search`, { method: 'POST', body: form })).json()) as { results: { id: string }[] };
        expect(body.results.map((r) => r.id)).toEqual(imageAlone.map((h) => h.id));
        return;
      }
      const q = queries[i % queries.length] as string;
      const response = await postJson({ text: q, k: 5 });
      expect(response.status).toBe(200);
      expect(JSON.stringify(((await response.json()) as { results: unknown }).results)).toBe(alone.get(q));
    });
    await Promise.all(runs);
  });
});

describe('HTTP server with a token', () => {
  const TOKEN = 'tok-3f9a1c';
  let gated: RunningServer;
  beforeAll(async () => {
    gated = await startServer(createApp(service), { port: 0, token: TOKEN });
  });
  afterAll(async () => {
    await gated?.close();
  });
  const search = (authorization?: string) =>
    fetch(`${gated.url}/search`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
      body: JSON.stringify({ text: 'a red heart', k: 2 }),
    });

  it('answers 401 JSON with a Bearer challenge without a token, and with a wrong one', async () => {
    for (const authorization of [undefined, 'Bearer tok-3f9a1d', 'Bearer tok-3f9a1', `Bearer ${TOKEN}x`, `Basic ${TOKEN}`, TOKEN]) {
      const response = await search(authorization);
      expect(response.status, authorization).toBe(401);
      expect(response.headers.get('www-authenticate'), authorization).toMatch(/^Bearer realm="tessera"/);
      expect(await response.json(), authorization).toMatchObject({ error: 'unauthorized' });
    }
    expect((await search('Bearer wrong')).headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('serves search and thumbnails only with the token', async () => {
    const response = await search(`Bearer ${TOKEN}`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { results: { id: string; thumbnail: string }[] };
    expect(body.results.map((r) => r.id)).toEqual((await service.searchText('a red heart', 2)).map((h) => h.id));
    const thumb = body.results[0]?.thumbnail as string;
    expect((await fetch(`${gated.url}${thumb}`)).status).toBe(401);
    expect((await fetch(`${gated.url}${thumb}`, { headers: { authorization: `bearer ${TOKEN}` } })).status).toBe(200);
    expect((await fetch(`${gated.url}/no/such/route`)).status).toBe(401); // nothing about the routes leaks
  });

  it('keeps GET /health and the page open', async () => {
    const health = await fetch(`${gated.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', count: 5 });
    const page = await fetch(`${gated.url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('id="token"');
  });

  it('refuses to listen on 0.0.0.0 without a token, before binding', async () => {
    await expect(startServer(createServerApp([]), { host: '0.0.0.0', port: 0 })).rejects.toMatchObject({ code: 'E_SERVE_AUTH' });
    const open = await startServer(createServerApp([]), { host: '0.0.0.0', port: 0, insecureNoAuth: true });
    expect((await fetch(`http://127.0.0.1:${open.port}/health`)).status).toBe(200);
    await open.close();
  });
});

describe.each(['exact', 'lance'] as StoreInfo['kind'][])('a %s store reindexed under a running server', (kind) => {
  let images: string;
  let reindexPath: string;
  let indexer: Embedder;
  let live: RetrievalService;
  let liveServer: RunningServer;

  /** What `tessera index` does: open or create the store, index the folder, record roots and checkpoint. */
  async function index(): Promise<void> {
    const store = await openStore(reindexPath, { create: { kind, modelId: indexer.modelId, dim: indexer.dim } });
    const listing = await listImages(images);
    await indexImages({ embedder: indexer, store, listing });
    await writeSidecar(reindexPath, { roots: [listing.root], checkpoint: fx.model });
    await store.close();
  }

  beforeAll(async () => {
    images = path.join(fx.dir, `live-${kind}`);
    reindexPath = path.join(fx.dir, `live-${kind}.store`);
    await mkdir(images);
    indexer = await Embedder.load(fx.model);
    await writeFile(path.join(images, 'red.png'), await pngOf([230, 20, 30]));
    await writeFile(path.join(images, 'blue.png'), await pngOf([20, 40, 220]));
    await index();
    live = await RetrievalService.open(reindexPath);
    liveServer = await startServer(createApp(live), { port: 0 });
  });
  afterAll(async () => {
    await liveServer?.close();
    await live?.close();
    indexer?.dispose();
  });

  const searchByImage = async (rgb: [number, number, number]) => {
    const form = new FormData();
    form.append('image', new Blob([new Uint8Array(await pngOf(rgb))], { type: 'image/png' }), 'q.png');
    form.append('k', '10');
    const response = await fetch(`${liveServer.url}/search`, { method: 'POST', body: form });
    expect(response.status).toBe(200);
    return ((await response.json()) as { results: { id: string; score: number }[] }).results;
  };

  it('serves the new images without a restart, while a search begun on the old store finishes on it', async () => {
    const PURPLE: [number, number, number] = [140, 30, 200];
    const before = await searchByImage(PURPLE);
    expect(before.map((r) => r.id).sort()).toEqual(['blue.png', 'red.png']);

    // A search that holds the old store across the reindex and the reload.
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let oldStore: VectorStore | undefined;
    const query = live.embedder.embedImages([await live.embedder.decode(new Uint8Array(await pngOf(PURPLE)))])[0] as Float32Array;
    const inFlight = live.withStore(async (store) => {
      oldStore = store;
      await gate;
      return store.search(live.embedder.modelId, query, 10);
    });

    await writeFile(path.join(images, 'purple.png'), await pngOf(PURPLE));
    await index();

    const after = await searchByImage(PURPLE);
    expect(after.map((r) => r.id).sort()).toEqual(['blue.png', 'purple.png', 'red.png']);
    expect(after[0]?.id).toBe('purple.png');
    expect(after[0]?.score).toBeCloseTo(1, 4);
    const health = (await (await fetch(`${liveServer.url}/health`)).json()) as { count: number };
    expect(health.count).toBe(3);
    expect(live.store).not.toBe(oldStore);
    const thumb = await fetch(`${liveServer.url}/images/purple.png`);
    expect(thumb.status).toBe(200);

    // The old store stayed open for the search that held it, and closes once it is done.
    release();
    const old = await inFlight;
    expect(old.map((h) => h.id).sort()).toEqual(['blue.png', 'red.png']);
    await expect(oldStore?.count()).rejects.toMatchObject({ code: 'E_STORE_CLOSED' });
  });
});
