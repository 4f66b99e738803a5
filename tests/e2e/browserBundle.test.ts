import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type * as TesseraEval from '@tessera/eval';
import type * as TesseraTokenizer from '@tessera/tokenizer';
import { build } from 'esbuild';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HARD_STRINGS } from '../../packages/tokenizer/test/hardStrings.js';
import { bertTokenizerJSON, gpt2TokenizerJSON, rust, toUtf16Offsets } from '../../packages/tokenizer/test/reference.js';
import { BROWSER_EXAMPLE_MARKER, readmeExample } from '../integration/readmeExample.js';

// @tessera/tokenizer and @tessera/eval in a real browser. esbuild bundles them for platform
// 'browser' from the specifier a page imports ('@tessera/tokenizer'), so the packages' own
// export maps choose the entry (the `browser` condition; `development` makes it the TypeScript
// sources, as everywhere in these tests, rather than a possibly stale dist/). Chromium loads the
// bundles from a loopback HTTP server and fetches each tokenizer.json as a page would. The values
// are the Node tests' references: the ids transformers wrote into the committed model fixtures
// (packages/models/test/fixtures/pretrained/make_*.py), the Hugging Face Rust tokenizers on the
// golden tests' hard strings, and packages/eval/test/fixtures/reference.json for the metrics.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PRETRAINED = path.join(ROOT, 'packages/models/test/fixtures/pretrained');
/** Debian's chromium; CI installs it with `apt-get install -y chromium`. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Minified bundle limits: a few times today's size (about 70 kB and 5 kB), far below what a stray dependency adds. */
const MAX_BYTES = { tokenizer: 256 * 1024, eval: 32 * 1024 };

const readJSON = (file: string) => JSON.parse(readFileSync(file, 'utf8'));
const CHINESE_CLIP = readJSON(path.join(PRETRAINED, 'expected-chinese-clip.json'));
const CLIP = readJSON(path.join(PRETRAINED, 'expected.json'));
const REFERENCE = readJSON(path.join(ROOT, 'packages/eval/test/fixtures/reference.json'));

interface Bundle {
  code: string;
  /** Every file esbuild put in, relative to the repository root. */
  inputs: string[];
  bytes: number;
  gzipBytes: number;
}

/** Bundles `contents` (an ES module importing @tessera/*) as a page would; esbuild rejects any import it cannot resolve for a browser, node:* included. */
async function bundle(contents: string, sourcefile: string): Promise<Bundle> {
  const result = await build({
    stdin: { contents, sourcefile, resolveDir: path.join(ROOT, 'tests'), loader: 'js' },
    absWorkingDir: ROOT,
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    conditions: ['development'],
    minify: true,
    legalComments: 'none',
    metafile: true,
    write: false,
    logLevel: 'silent',
  });
  expect(result.errors).toEqual([]);
  const code = result.outputFiles[0]?.text ?? '';
  const inputs = Object.keys(result.metafile.inputs);
  return { code, inputs, bytes: Buffer.byteLength(code), gzipBytes: gzipSync(code).length };
}

/** The bundles, made once (the first test asserts what went into them). */
let bundles: Promise<{ tokenizer: Bundle; eval: Bundle }> | undefined;
const getBundles = () => {
  bundles ??= Promise.all([
    bundle("export * from '@tessera/tokenizer';", 'tokenizer-entry.js'),
    bundle("export * from '@tessera/eval';", 'eval-entry.js'),
  ]).then(([tokenizer, evaluation]) => ({ tokenizer, eval: evaluation }));
  return bundles;
};

/** The page's modules, as `window.tessera` after the page's module script ran. */
type Loaded = { tokenizer: typeof TesseraTokenizer; eval: typeof TesseraEval };
type TesseraWindow = Window & { tessera: Loaded };

/** Path -> [content type, body] served on 127.0.0.1. */
const routes = new Map<string, [string, string]>();
let server: Server;
let base: string;
let browser: Browser;

beforeAll(async () => {
  server = createServer((req, res) => {
    const route = routes.get(new URL(req.url ?? '/', 'http://localhost').pathname);
    if (!route) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': `${route[0]}; charset=utf-8`, 'cache-control': 'no-store' }).end(route[1]);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
});

const JS = 'text/javascript';
const JSON_TYPE = 'application/json';
const html = (script: string) => `<!doctype html><meta charset="utf-8"><title>tessera</title><script type="module">${script}</script>`;

/** A fresh page with both bundles loaded as `window.tessera`; page errors fail the caller. */
async function tesseraPage(): Promise<Page> {
  const { tokenizer, eval: evaluation } = await getBundles();
  routes.set('/tokenizer.js', [JS, tokenizer.code]);
  routes.set('/eval.js', [JS, evaluation.code]);
  routes.set('/', [
    'text/html',
    html(
      "import * as tokenizer from '/tokenizer.js'; import * as evaluation from '/eval.js'; window.tessera = { tokenizer, eval: evaluation };",
    ),
  ]);
  const page = await browser.newPage();
  const errors: Error[] = [];
  page.on('pageerror', (e) => errors.push(e));
  await page.goto(`${base}/`);
  await page
    .waitForFunction(() => 'tessera' in window, undefined, { timeout: 20_000 })
    .catch((e: Error) => {
      throw new Error(`the bundles did not load in Chromium: ${errors.map((x) => x.message).join('; ') || e.message}`);
    });
  return page;
}

describe('@tessera/tokenizer and @tessera/eval bundled for the browser (esbuild) and run in Chromium', () => {
  it('bundle with no Node built-in and no Node-only package, and report their sizes', async () => {
    const b = await getBundles();
    console.log(
      ['| bundle (esbuild, browser, esm, minified) | bytes | gzip |', '| --- | ---: | ---: |']
        .concat(Object.entries(b).map(([name, x]) => `| @tessera/${name} | ${x.bytes} | ${x.gzipBytes} |`))
        .join('\n'),
    );
    for (const [name, x] of Object.entries(b) as [keyof typeof MAX_BYTES, Bundle][]) {
      // Only the sources of base, tokenizer and eval: no node_modules (zod, cli-progress, commander), no node:*.
      const foreign = x.inputs.filter((f) => !/^packages\/(base|tokenizer|eval)\/src\//.test(f) && !f.endsWith('-entry.js'));
      expect(foreign, name).toEqual([]);
      // The browser entries, not the Node ones: no file access, CLI, progress bar or benchmark records.
      const nodeOnly = ['packages/base/src/fs.ts', 'packages/base/src/bench.ts', 'packages/base/src/progress.ts'];
      expect(x.inputs.filter((f) => nodeOnly.includes(f) || /tokenizer\/src\/(cli|files)\.ts$/.test(f))).toEqual([]);
      expect(x.inputs).toContain('packages/base/src/browser.ts');
      expect(x.bytes).toBeGreaterThan(1000);
      expect(x.bytes, `${name} bundle size`).toBeLessThan(MAX_BYTES[name]);
    }
    expect(b.tokenizer.inputs).toContain('packages/tokenizer/src/files.browser.ts');
    expect(b.tokenizer.inputs).toContain('packages/tokenizer/src/browser.ts');
  });

  it('fails to bundle when a Node built-in is imported (the Node entry, with commander), so such an import fails the test above', async () => {
    const nodeEntry = path.join(ROOT, 'packages/tokenizer/src/index.ts');
    await expect(bundle(`export * from ${JSON.stringify(nodeEntry)};`, 'node-entry.js')).rejects.toThrow(/Could not resolve "node:/);
  });

  it("encodes Chinese, English and mixed captions to transformers' ids (committed Chinese-CLIP and CLIP fixtures) and decodes", async () => {
    routes.set('/chinese-clip/tokenizer.json', [JSON_TYPE, readFileSync(path.join(PRETRAINED, 'chinese-clip/tokenizer.json'), 'utf8')]);
    routes.set('/clip/tokenizer.json', [JSON_TYPE, readFileSync(path.join(PRETRAINED, 'clip/tokenizer.json'), 'utf8')]);
    const page = await tesseraPage();
    try {
      const got = await page.evaluate(
        async ({ zh, en }) => {
          const { Tokenizer } = (window as unknown as TesseraWindow).tessera.tokenizer;
          const load = async (url: string) => Tokenizer.fromString(await (await fetch(url)).text());
          const chineseClip = await load('/chinese-clip/tokenizer.json');
          const clip = await load('/clip/tokenizer.json');
          const singles = zh.captions.map((c) => chineseClip.encode(c));
          const pair = chineseClip.encode(zh.pair[0], zh.pair[1]);
          return {
            ids: singles.map((e) => e.ids),
            typeIds: singles.map((e) => e.typeIds),
            pairIds: pair.ids,
            pairTypeIds: pair.typeIds,
            decoded: singles.map((e) => chineseClip.decode(e.ids, { skipSpecialTokens: true })),
            clipIds: en.map((c) => clip.encode(c).ids),
            clipDecoded: en.map((c) => clip.decode(clip.encode(c).ids, { skipSpecialTokens: true })),
          };
        },
        { zh: { captions: CHINESE_CLIP.captions as string[], pair: CHINESE_CLIP.pair as [string, string] }, en: CLIP.captions as string[] },
      );
      const want = CHINESE_CLIP.models['chinese-clip'];
      expect(CHINESE_CLIP.captions[0]).toBe('一只猫坐在垫子上');
      expect(got.ids).toEqual(want.input_ids);
      expect(got.typeIds).toEqual(want.token_type_ids);
      expect(got.pairIds).toEqual(want.pair_input_ids);
      expect(got.pairTypeIds).toEqual(want.pair_token_type_ids);
      expect(got.clipIds).toEqual(CLIP.models.clip.input_ids);
      // Decoding: as the Rust library decodes the same ids with the same tokenizer.json.
      const refZh = rust.Tokenizer.fromString(routes.get('/chinese-clip/tokenizer.json')?.[1] as string);
      const refEn = rust.Tokenizer.fromString(routes.get('/clip/tokenizer.json')?.[1] as string);
      expect(got.decoded).toEqual(await Promise.all((want.input_ids as number[][]).map((ids) => refZh.decode(ids, true))));
      expect(got.decoded[3]).toBe('a photo of a cat');
      expect(got.clipDecoded).toEqual(await Promise.all((CLIP.models.clip.input_ids as number[][]).map((ids) => refEn.decode(ids, true))));
    } finally {
      await page.close();
    }
  });

  for (const [name, json] of [
    ['bert-base-uncased', bertTokenizerJSON],
    ['GPT-2', gpt2TokenizerJSON],
  ] as const) {
    it(`${name}: the golden tests' hard strings (English, Chinese, CJK, RTL, emoji...) as the Rust tokenizers encode and decode them`, async () => {
      const text = JSON.stringify(json());
      routes.set(`/${name}/tokenizer.json`, [JSON_TYPE, text]);
      const page = await tesseraPage();
      try {
        const got = await page.evaluate(
          async ({ url, texts }) => {
            const { Tokenizer } = (window as unknown as TesseraWindow).tessera.tokenizer;
            const tokenizer = Tokenizer.fromString(await (await fetch(url)).text());
            return texts.map((t) => {
              const e = tokenizer.encode(t);
              return {
                ids: e.ids,
                tokens: e.tokens,
                typeIds: e.typeIds,
                specialTokensMask: e.specialTokensMask,
                offsets: e.offsets,
                decoded: [tokenizer.decode(e.ids), tokenizer.decode(e.ids, { skipSpecialTokens: true })],
              };
            });
          },
          { url: `/${name}/tokenizer.json`, texts: HARD_STRINGS },
        );
        const ref = rust.Tokenizer.fromString(text);
        expect(got).toHaveLength(HARD_STRINGS.length);
        for (const [i, t] of HARD_STRINGS.entries()) {
          const r = await ref.encode(t);
          const label = JSON.stringify(t.slice(0, 60));
          const o = got[i] as (typeof got)[number];
          expect(o.ids, label).toEqual(r.getIds());
          expect(o.tokens, label).toEqual(r.getTokens());
          expect(o.typeIds, label).toEqual(r.getTypeIds());
          expect(o.specialTokensMask, label).toEqual(r.getSpecialTokensMask());
          expect(o.offsets, label).toEqual(toUtf16Offsets(t, r.getOffsets()));
          expect(o.decoded, label).toEqual([await ref.decode(r.getIds(), false), await ref.decode(r.getIds(), true)]);
        }
        expect(got.some((o, i) => /[\u4e00-\u9fff]/.test(HARD_STRINGS[i] as string) && o.ids.length > 2)).toBe(true);
      } finally {
        await page.close();
      }
    });
  }

  it('says E_PLATFORM, with what to pass instead, where the tokenizer would need a file system', async () => {
    const page = await tesseraPage();
    try {
      const got = await page.evaluate(async () => {
        const { Tokenizer, trainWordPiece } = (window as unknown as TesseraWindow).tessera.tokenizer;
        const caught = async (f: () => unknown) => {
          try {
            await f();
            return { code: 'no error', message: '' };
          } catch (e) {
            const err = e as { code?: string; name?: string; message: string };
            return { code: err.code ?? `not a TesseraError (${err.name})`, message: err.message };
          }
        };
        const tokenizer = Tokenizer.fromBertVocab(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'a', 'cat']);
        return {
          fromFile: await caught(() => Tokenizer.fromFile('tokenizer.json')),
          save: await caught(() => tokenizer.save('tokenizer.json')),
          train: await caught(() => trainWordPiece({ files: ['captions.txt'] })),
          lines: tokenizer.encode('a cat').ids,
        };
      });
      expect(got.fromFile.code).toBe('E_PLATFORM');
      expect(got.fromFile.message).toContain('Tokenizer.fromString');
      expect(got.save.code).toBe('E_PLATFORM');
      expect(got.train.code).toBe('E_PLATFORM');
      expect(got.train.message).toContain('iterable of strings');
      expect(got.lines).toEqual([2, 5, 6, 3]); // [CLS] a cat [SEP]: fromBertVocab(lines) needs no file
    } finally {
      await page.close();
    }
  });

  it('computes BLEU-1..4, ROUGE-L, CIDEr-D and retrieval metrics as the reference implementation (reference.json)', async () => {
    const page = await tesseraPage();
    try {
      const { captions, retrieval } = REFERENCE;
      const got = await page.evaluate(
        ({ items, r }) => {
          const m = (window as unknown as TesseraWindow).tessera.eval;
          return {
            scores: m.evaluateCaptions(items),
            tokens: items.map((i) => ({ candidate: m.tokenizeCaption(i.candidate), references: i.references.map(m.tokenizeCaption) })),
            retrieval: m.retrievalMetrics(r.similarity, r.numTexts, r.numImages, r.imageOfText),
          };
        },
        { items: captions.items as TesseraEval.CaptionItem[], r: retrieval },
      );
      const s = got.scores;
      for (const [k, b] of [s.bleu1, s.bleu2, s.bleu3, s.bleu4].entries()) expect(Math.abs(b - captions.bleu[k])).toBeLessThan(1e-6);
      expect(Math.abs(s.rougeL - captions.rougeL)).toBeLessThan(1e-6);
      expect(Math.abs(s.ciderD - captions.ciderD)).toBeLessThan(1e-6);
      for (const [i, p] of s.perItem.entries()) {
        expect(Math.abs(p.rougeL - captions.rougeLPerItem[i])).toBeLessThan(1e-6);
        expect(Math.abs(p.ciderD - captions.ciderDPerItem[i])).toBeLessThan(1e-6);
      }
      for (const [i, item] of (captions.items as TesseraEval.CaptionItem[]).entries())
        expect(got.tokens[i]).toEqual(captions.tokens[item.id]);
      expect(got.retrieval.textToImage).toEqual(retrieval.textToImage);
      expect(got.retrieval.imageToText).toEqual(retrieval.imageToText);
    } finally {
      await page.close();
    }
  });

  /** Bundles a README's "In the browser" block, runs it in a page beside `files`, and returns the JSON it logs. */
  async function runReadmeBlock(pkg: 'tokenizer' | 'eval', files: Record<string, string>): Promise<Record<string, unknown>> {
    const readme = path.join(ROOT, 'packages', pkg, 'README.md');
    const code = (await bundle(readmeExample(readme, BROWSER_EXAMPLE_MARKER), `${pkg}/README.md`)).code;
    routes.set(`/readme/${pkg}.js`, [JS, code]);
    for (const [file, body] of Object.entries(files)) routes.set(`/readme/${file}`, [JSON_TYPE, body]);
    routes.set(`/readme/${pkg}.html`, ['text/html', html(`import './${pkg}.js';`)]);
    const page = await browser.newPage();
    try {
      const logged = new Promise<string>((resolve, reject) => {
        page.on('pageerror', reject);
        page.on('console', (m) => {
          if (m.type() === 'log' && m.text().startsWith('{')) resolve(m.text());
        });
      });
      await page.goto(`${base}/readme/${pkg}.html`);
      return JSON.parse(await logged);
    } finally {
      await page.close();
    }
  }

  it('runs the tokenizer README\'s "In the browser" block as written', async () => {
    const out = await runReadmeBlock('tokenizer', {
      'chinese-clip/tokenizer.json': readFileSync(path.join(PRETRAINED, 'chinese-clip/tokenizer.json'), 'utf8'),
    });
    const ids = CHINESE_CLIP.models['chinese-clip'].input_ids;
    expect(CHINESE_CLIP.captions[3]).toBe('A photo of a cat');
    expect(out).toEqual({ ids: [ids[0], ids[3]], text: 'a photo of a cat' });
  });

  it('runs the eval README\'s "In the browser" block as written', async () => {
    const out = await runReadmeBlock('eval', { 'captions.json': JSON.stringify(REFERENCE.captions.items) });
    const bleu = out.bleu as number[];
    expect(bleu).toHaveLength(4);
    for (const [k, b] of bleu.entries()) expect(Math.abs(b - REFERENCE.captions.bleu[k])).toBeLessThan(1e-6);
    expect(Math.abs((out.ciderD as number) - REFERENCE.captions.ciderD)).toBeLessThan(1e-6);
    expect(Math.abs((out.rougeL as number) - REFERENCE.captions.rougeL)).toBeLessThan(1e-6);
    expect(out.tokens).toEqual(['我', '喜', '欢', 'cats']); // CJK per character, punctuation dropped (COCO tokenisation)
  });
});
