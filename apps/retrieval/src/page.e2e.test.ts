import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '@tessera/core';
import { openStore } from '@tessera/index';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fixture, makeFixture, pngOf } from '../test/fixture.js';
import { Embedder } from './embedder.js';
import { listImages } from './imageSource.js';
import { indexImages } from './indexImages.js';
import { RetrievalService } from './retrievalService.js';
import { createApp, type RunningServer, startServer } from './server.js';
import { writeSidecar } from './storeRoots.js';

/** Screenshots land here (gitignored) for CI to keep as artifacts. */
const ARTIFACTS = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'test-artifacts');
/** Debian's chromium; CI installs it with `apt-get install -y chromium`. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let fx: Fixture;
let service: RetrievalService;
let server: RunningServer;
let browser: Browser;

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  fx = await makeFixture();
  const storePath = path.join(fx.dir, 'page.tsv');
  const embedder = await Embedder.load(fx.model);
  const store = await openStore(storePath, { create: { kind: 'exact', modelId: embedder.modelId, dim: embedder.dim } });
  const listing = await listImages(fx.images);
  await indexImages({ embedder, store, listing });
  await writeSidecar(storePath, { roots: [listing.root], checkpoint: fx.model });
  await store.close();
  embedder.dispose();
  service = await RetrievalService.open(storePath);
  server = await startServer(createApp(service), { port: 0 });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
  await service?.close();
  await rm(fx.dir, { recursive: true, force: true });
});

describe('search page in Chromium', () => {
  it('shows the ranked thumbnails with scores for a typed query, and for an uploaded image', async () => {
    const page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
    await page.goto(server.url);
    await page.fill('#query', '红心');
    await page.fill('#k', '5');
    await page.click('button[type=submit]');
    await page.waitForSelector('figure.hit');
    const expected = await service.searchText('红心', 5);
    const shown = await page.$$eval('figure.hit', (figs) => figs.map((f) => (f as HTMLElement).dataset.id));
    expect(shown).toEqual(expected.map((h) => h.id));
    const scores = await page.$$eval('figure.hit .score', (els) => els.map((e) => Number(e.textContent)));
    for (const [i, s] of scores.entries()) expect(s).toBeCloseTo(expected[i]?.score as number, 3);
    // Every thumbnail actually loaded (decoded by the browser).
    await page.waitForFunction(() =>
      [...document.querySelectorAll('figure.hit img')].every((img) => (img as HTMLImageElement).naturalWidth > 0),
    );
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'search-text.png'), fullPage: true });

    const upload = path.join(fx.dir, 'query.png');
    await writeFile(upload, await pngOf([240, 230, 20]));
    await page.setInputFiles('#upload', upload);
    await page.waitForFunction(() => document.querySelector('figure.hit')?.getAttribute('data-id') === 'sub/yellow.png');
    await page.screenshot({ path: path.join(ARTIFACTS, 'search-image.png'), fullPage: true });

    await page.fill('#query', '   ');
    await page.click('button[type=submit]');
    await page.waitForFunction(() => document.querySelector('#status')?.textContent?.startsWith('error:'));
    expect(await page.$$('figure.hit')).toHaveLength(0);
    await page.close();
  }, 60_000);
});
