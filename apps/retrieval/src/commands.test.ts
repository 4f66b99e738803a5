import { existsSync, readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { initBackend } from '@tessera/core';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Fixture, makeFixture } from '../test/fixture.js';
import { createRetrievalCommands } from './commands.js';
import { Embedder } from './embedder.js';
import { rootsFile } from './storeRoots.js';

let fx: Fixture;

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  fx = await makeFixture();
});
afterAll(async () => {
  await rm(fx.dir, { recursive: true, force: true });
});

/** Runs `tessera <args>` on a program built from the factory and returns what it printed. */
async function run(...args: string[]): Promise<string> {
  const program = new Command('tessera').exitOverride();
  for (const command of createRetrievalCommands()) program.addCommand(command.exitOverride());
  const lines: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => {
    lines.push(parts.join(' '));
  });
  try {
    await program.parseAsync(args, { from: 'user' });
  } finally {
    log.mockRestore();
  }
  return lines.join('\n');
}

describe('tessera index / search', () => {
  it('provides index, search and finetune', () => {
    expect(createRetrievalCommands().map((c) => c.name())).toEqual(['index', 'search', 'embed', 'finetune']);
  });

  for (const kind of ['exact', 'lance'] as const) {
    it(`indexes a folder into a ${kind} store, then searches it by text and by image`, async () => {
      const store = path.join(fx.dir, kind === 'exact' ? 'cli.tsv' : 'cli.lance');
      const report = JSON.parse(
        await run('index', '--checkpoint', fx.model, '--images', fx.images, '--store', store, '--kind', kind, '--json'),
      );
      expect(report).toMatchObject({ count: 5, added: 5, skipped: { E_IMAGE_UNRECOGNIZED: 1, E_FILE_EMPTY: 1 } });
      expect(existsSync(rootsFile(store))).toBe(true);
      const rerun = JSON.parse(await run('index', '--checkpoint', fx.model, '--images', fx.images, '--store', store, '--json'));
      expect(rerun).toMatchObject({ count: 5, added: 0, unchanged: 5 });

      // The checkpoint is recorded with the store, so search needs only --store.
      const text = JSON.parse(await run('search', '--store', store, 'a red heart', '-k', '3', '--json'));
      expect(text.results).toHaveLength(3);
      const zh = JSON.parse(await run('search', '--store', store, '红心', '--json'));
      expect(zh.results).toHaveLength(5);
      const image = JSON.parse(await run('search', '--store', store, '--image', path.join(fx.images, 'green.png'), '-k', '1', '--json'));
      expect(image.results[0].id).toBe('green.png');
      expect(image.results[0].score).toBeCloseTo(1, 4);
    });
  }

  it('ranks the captions of a manifest for an image (image to text) by the cosine of their embeddings', async () => {
    const store = path.join(fx.dir, 'cli.tsv');
    const manifest = path.join(fx.dir, 'captions.jsonl');
    const texts = ['a red heart', 'a blue circle', '红心', 'green'];
    await writeFile(manifest, texts.map((t, i) => JSON.stringify({ image: `x${i}.png`, caption: t })).join('\n'));
    const out = JSON.parse(
      await run('search', '--store', store, '--image', path.join(fx.images, 'red.png'), '--captions', manifest, '-k', '3', '--json'),
    );
    const embedder = await Embedder.load(fx.model);
    const image = embedder.embedImages([await embedder.decode(path.join(fx.images, 'red.png'))])[0] as Float32Array;
    const cosine = (v: Float32Array) => v.reduce((s, x, d) => s + x * (image[d] as number), 0) / (Math.hypot(...v) * Math.hypot(...image));
    const expected = embedder
      .embedTexts(texts)
      .map((v, i) => ({ text: texts[i], score: cosine(v) }))
      .sort((a, b) => b.score - a.score)
      .slice(0, 3);
    embedder.dispose();
    expect(out.results.map((r: { text: string }) => r.text)).toEqual(expected.map((e) => e.text));
    for (const [i, r] of out.results.entries()) expect(r.score).toBeCloseTo(expected[i]?.score as number, 4);
  });

  it('embeds texts and images in the order given, as unit vectors', async () => {
    const red = path.join(fx.images, 'red.png');
    const green = path.join(fx.images, 'green.png');
    const out = JSON.parse(
      await run('embed', '--checkpoint', fx.model, '--text', '红心', '--text', 'a red heart', '--image', green, '--image', red, '--json'),
    ) as { texts: number[][]; images: number[][] };
    const embedder = await Embedder.load(fx.model);
    const texts = embedder.embedTexts(['红心', 'a red heart']);
    const images = embedder.embedImages([await embedder.decode(green), await embedder.decode(red)]);
    embedder.dispose();
    for (const [got, want] of [...out.texts.map((v, i) => [v, texts[i]]), ...out.images.map((v, i) => [v, images[i]])] as Array<
      [number[], Float32Array]
    >) {
      expect(Math.hypot(...got)).toBeCloseTo(1, 5);
      for (const [d, v] of got.entries()) expect(v).toBeCloseTo(want[d] as number, 6);
    }
    const plain = (await run('embed', '--checkpoint', fx.model, '--text', 'a red heart')).split('\t');
    expect(plain.slice(0, 2)).toEqual(['text', 'a red heart']);
    expect(plain[2]?.split(' ').map(Number)[0]).toBeCloseTo(texts[1]?.[0] as number, 5);
    await expect(run('embed', '--checkpoint', fx.model)).rejects.toMatchObject({ code: 'E_QUERY' });
  });

  it('says what to do on a bad call', async () => {
    const store = path.join(fx.dir, 'cli.tsv');
    await expect(run('search', '--store', store)).rejects.toMatchObject({ code: 'E_QUERY' });
    await expect(run('search', '--store', store, 'heart', '--captions', store)).rejects.toMatchObject({ code: 'E_QUERY' });
    await expect(run('search', '--store', path.join(fx.dir, 'nothing.tsv'), 'heart', '--checkpoint', fx.model)).rejects.toMatchObject({
      code: 'E_STORE_NOT_FOUND',
    });
    await expect(run('index', '--checkpoint', fx.model, '--images', path.join(fx.dir, 'nope'), '--store', store)).rejects.toMatchObject({
      code: 'E_IO',
    });
    await expect(run('index', '--checkpoint', fx.model, '--images', fx.images, '--store', store, '--kind', 'faiss')).rejects.toMatchObject({
      code: 'E_CONFIG',
    });
  });
});

/** Tiny Hugging Face folders written by transformers 5.18, with its outputs (packages/models/test/fixtures/pretrained/make_clip.py). */
const HF = path.resolve(import.meta.dirname, '../../../packages/models/test/fixtures/pretrained');
const hfExpected = JSON.parse(readFileSync(path.join(HF, 'expected.json'), 'utf8')) as {
  captions: string[];
  images: string[];
  models: Record<string, { text_features?: number[][]; image_features?: number[][]; image_embeds?: number[][] }>;
};
const unit = (v: number[]) => {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};
const maxDiff = (a: number[][], b: number[][]) =>
  Math.max(...a.flatMap((row, i) => row.map((v, j) => Math.abs(v - (b[i]?.[j] as number)))));

describe('tessera embed / index / search on a Hugging Face folder', () => {
  it("embeds as transformers' get_text_features / get_image_features, L2-normalised", async () => {
    for (const name of ['clip', 'clip-eos']) {
      const args = ['embed', '--checkpoint', path.join(HF, name), '--json'];
      for (const t of hfExpected.captions) args.push('--text', t);
      for (const f of hfExpected.images) args.push('--image', path.join(HF, f));
      const out = JSON.parse(await run(...args)) as { texts: number[][]; images: number[][] };
      const want = hfExpected.models[name] as { text_features: number[][]; image_features: number[][] };
      expect(maxDiff(out.texts, want.text_features.map(unit)), name).toBeLessThan(1e-4);
      expect(maxDiff(out.images, want.image_features.map(unit)), name).toBeLessThan(1e-4);
    }
  });

  it('a single tower embeds its own side and says so for the other', async () => {
    const image = path.join(HF, hfExpected.images[0] as string);
    const out = JSON.parse(await run('embed', '--checkpoint', path.join(HF, 'clip-vision'), '--image', image, '--json'));
    const want = hfExpected.models['clip-vision']?.image_embeds?.[0] as number[];
    expect(maxDiff(out.images, [unit(want)])).toBeLessThan(1e-4);
    await expect(run('embed', '--checkpoint', path.join(HF, 'clip-vision'), '--text', 'a cat')).rejects.toMatchObject({ code: 'E_QUERY' });
  });

  it('indexes images with a sharded BF16 folder and finds an image by itself', async () => {
    const store = path.join(fx.dir, 'hf.tsv');
    const report = JSON.parse(
      await run('index', '--checkpoint', path.join(HF, 'clip-eos'), '--images', fx.images, '--store', store, '--json'),
    );
    expect(report).toMatchObject({ count: 5, added: 5 });
    expect(report.model).toMatch(/@[0-9a-f]{16}$/);
    const hits = JSON.parse(await run('search', '--store', store, '--image', path.join(fx.images, 'green.png'), '-k', '1', '--json'));
    expect(hits.results[0]).toMatchObject({ id: 'green.png' });
    const text = JSON.parse(await run('search', '--store', store, 'a red heart', '-k', '2', '--json'));
    expect(text.results).toHaveLength(2);
  });
});
