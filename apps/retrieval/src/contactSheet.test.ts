import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { initBackend } from '@tessera/core';
import { type DataRecord, readManifest } from '@tessera/data';
import { buildEmojiDataset } from '@tessera/dataset-emoji';
import { openStore } from '@tessera/index';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TINY_CLIP } from '../test/fixture.js';
import { type ContactSheetQuery, contactSheetQueries, writeContactSheet } from './contactSheet.js';
import { Embedder } from './embedder.js';
import { listImages } from './imageSource.js';
import { indexImages } from './indexImages.js';
import { trainClip } from './trainClip.js';

let dir: string;
let testManifest: string;
let records: DataRecord[];
let embedder: Embedder;

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  dir = await mkdtemp(path.join(tmpdir(), 'tessera-sheet-'));
  // The emoji subset (Google style to train, Twitter style to search) and a tiny CLIP trained a few steps on it.
  const built = await buildEmojiDataset({ outDir: path.join(dir, 'emoji'), limit: 12 });
  testManifest = built.splits.test.manifest;
  records = (await readManifest(testManifest)).records;
  const run = await trainClip(
    {
      model: TINY_CLIP,
      data: { train: built.splits.train.manifest, languages: ['en', 'zh'], maxTextLength: 16, augment: false },
      train: { lr: 1e-3, steps: 3, batchSize: 4, outputDir: path.join(dir, 'run') },
    },
    { progress: false },
  );
  embedder = await Embedder.load(run.exportDir);
}, 120_000);
afterAll(async () => {
  embedder?.dispose();
  await rm(dir, { recursive: true, force: true });
});

/** What the HTML shows per query: its heading and the hits' ids and marks, in order. */
function parseSheet(html: string) {
  return [...html.matchAll(/<section class="query"[^>]*>\s*<h2>(.*?)<\/h2>[\s\S]*?<ol class="hits">(.*?)<\/ol>/g)].map((m) => ({
    heading: m[1] as string,
    hits: [...(m[2] as string).matchAll(/<li class="hit( correct)?" data-id="([^"]*)"><img src="data:image\/png;base64,([^"]+)"/g)].map(
      (h) => ({ correct: h[1] !== undefined, id: h[2] as string, base64: h[3] as string }),
    ),
  }));
}

describe('writeContactSheet', () => {
  it('shows each query with its top 5 from the store search, green exactly where the concept matches', async () => {
    // Five concepts of the test split by their first caption in each language, and a query to escape.
    const concepts = records.slice(0, 5);
    const labels = ['en', 'zh'].flatMap((lang) =>
      concepts.map((r) => ({ text: (r.captions.find((c) => c.lang === lang) as { text: string }).text, lang })),
    );
    const queries: ContactSheetQuery[] = [
      ...contactSheetQueries(records, labels),
      { text: `<b>${labels[0]?.text} & "more"</b>`, lang: 'en', concept: String(concepts[0]?.meta.concept) },
    ];
    expect(queries.slice(0, 5).map((q) => q.concept)).toEqual(concepts.map((r) => String(r.meta.concept)));
    const outDir = path.join(dir, 'sheet');
    const result = await writeContactSheet({ embedder, manifest: testManifest, queries, outDir });
    expect(result.html).toBe(path.join(outDir, 'contact-sheet.html'));
    expect(result.png).toBe(path.join(outDir, 'contact-sheet.png'));

    // The expected top 5 straight from the app's store: `tessera index` into a store on disk, then search.
    const store = await openStore(path.join(dir, 'expected.store'), {
      create: { kind: 'exact', modelId: embedder.modelId, dim: embedder.dim },
    });
    await indexImages({ embedder, store, listing: await listImages(testManifest) });
    const conceptOf = new Map(records.map((r) => [r.key, String(r.meta.concept)]));
    const expected = [];
    for (const q of queries) {
      const hits = await store.search(embedder.modelId, embedder.embedTexts([q.text])[0] as Float32Array, 5);
      expected.push(hits.map((h) => ({ id: h.id, correct: conceptOf.get(h.id) === q.concept })));
    }
    await store.close();
    // Both marks occur, so the check below is not vacuous (one image per concept: at most one green per row).
    expect([expected.flat().some((e) => e.correct), expected.flat().some((e) => !e.correct)]).toEqual([true, true]);

    const html = await readFile(result.html, 'utf8');
    const shown = parseSheet(html);
    expect(shown).toHaveLength(queries.length);
    for (const [i, section] of shown.entries()) {
      expect(section.hits).toHaveLength(5);
      expect(section.hits.map(({ id, correct }) => ({ id, correct }))).toEqual(expected[i]);
      // Each thumbnail is a real PNG of the image, inlined.
      for (const hit of section.hits) expect((await sharp(Buffer.from(hit.base64, 'base64')).metadata()).format).toBe('png');
    }
    // Every query is there, in order; text is escaped, never markup.
    expect(shown.slice(0, 10).map((s) => s.heading)).toEqual(labels.map((l) => l.text));
    expect(shown[10]?.heading).toBe(`&#60;b&#62;${labels[0]?.text} &#38; &#34;more&#34;&#60;/b&#62;`);
    expect(html).not.toContain('<b>');

    // The PNG: 2*16 + 176 + 5*(96 + 16) + 4*8 wide, 2*16 + 52 + 11*(96 + 50) + 10*8 high.
    const png = await sharp(await readFile(result.png)).metadata();
    expect([png.format, png.width, png.height]).toEqual(['png', 800, 1770]);
    // Written by temp file and rename: nothing else is left in the folder.
    expect((await readdir(outDir)).sort()).toEqual(['contact-sheet.html', 'contact-sheet.png']);
  }, 120_000);

  it('refuses a label no image of the split carries', () => {
    expect(() => contactSheetQueries(records, [{ text: 'no such emoji', lang: 'en' }])).toThrow(
      /no image of the manifest has the en caption "no such emoji"/,
    );
  });
});
