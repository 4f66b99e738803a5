import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readmeExample } from './readmeExample.js';

// Every workspace package as a user gets it: `npm pack`, then plain `npm install` of the
// tarballs into fresh projects under os.tmpdir() (no workspace links), and each package's README
// example run there against golden values from elsewhere (transformers, the COCO caption code,
// hand computation). Three projects, installed in parallel:
// - full: every tarball, `--ignore-scripts` (npm 11 skips dependency install scripts anyway), so
//   the addon is not built and Tessera runs on wasm saying why; then `npm rebuild @tessera/native`
//   builds it and the tensor examples run again on the native kernels;
// - noAddon: every tarball but @tessera/native, `--omit=optional`: the addon package is absent;
// - light: only tokenizer and eval (and base): no TensorFlow.js in node_modules.
// Needs the packages built (`npm run build`) and the npm registry (or a warm npm cache).

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PRETRAINED = path.join(ROOT, 'packages/models/test/fixtures/pretrained');
const EXPECTED = JSON.parse(readFileSync(path.join(PRETRAINED, 'expected.json'), 'utf8'));
const EXPECTED_ZH = JSON.parse(readFileSync(path.join(PRETRAINED, 'expected-chinese-clip.json'), 'utf8'));
const CAPTIONS = JSON.parse(readFileSync(path.join(ROOT, 'packages/eval/test/fixtures/reference.json'), 'utf8')).captions;

/** The packages whose README example the test runs, and the README holding it. */
const EXAMPLES = {
  core: 'packages/core/README.md',
  tokenizer: 'packages/tokenizer/README.md',
  eval: 'packages/eval/README.md',
  patches: 'packages/patches/README.md',
  transformer: 'packages/transformer/README.md',
  objectives: 'packages/objectives/README.md',
  models: 'packages/models/README.md',
  index: 'packages/index/README.md',
  train: 'packages/train/README.md',
} as const;
type ExampleName = keyof typeof EXAMPLES;

interface PackResult {
  name: string;
  filename: string;
  size: number;
  unpackedSize: number;
  files: { path: string }[];
}

const work = mkdtempSync(path.join(tmpdir(), 'tessera-packed-'));
const tarballs = path.join(work, 'tarballs');
let packed: PackResult[] = [];

const npm = (args: string[], cwd: string) =>
  run('npm', [...args, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd, maxBuffer: 1 << 26 });

/** A fresh project with `tarballNames` installed, the README examples and their input files. */
async function project(name: string, tarballNames: string[], flags: string[]): Promise<string> {
  const dir = path.join(work, name);
  mkdirSync(path.join(dir, 'examples'), { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: `packed-${name}`, private: true, type: 'module' }));
  for (const [example, readme] of Object.entries(EXAMPLES))
    writeFileSync(path.join(dir, 'examples', `${example}.mjs`), readmeExample(path.join(ROOT, readme)));
  // The examples read these from their working directory.
  for (const folder of ['clip', 'chinese-clip']) cpSync(path.join(PRETRAINED, folder), path.join(dir, folder), { recursive: true });
  cpSync(path.join(PRETRAINED, 'gradient.png'), path.join(dir, 'gradient.png'));
  writeFileSync(path.join(dir, 'captions.json'), JSON.stringify(CAPTIONS.items));
  const files = packed.filter((p) => tarballNames.includes(p.name)).map((p) => path.join(tarballs, p.filename));
  await npm(['install', ...flags, ...files], dir);
  return dir;
}

/** Runs a README example in `dir` and returns the JSON its last line prints. */
async function example(dir: string, name: ExampleName): Promise<Record<string, unknown>> {
  const { stdout } = await run(process.execPath, [path.join('examples', `${name}.mjs`)], {
    cwd: dir,
    env: { ...process.env, TESSERA_BACKEND: '', TESSERA_NATIVE: '' },
  });
  return JSON.parse(stdout.trim().split('\n').at(-1) as string);
}

const unit = (v: number[]) => {
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
};
const maxDiff = (a: number[][], b: number[][]) =>
  Math.max(...a.flatMap((row, i) => row.map((x, j) => Math.abs(x - (b[i]?.[j] ?? Number.NaN)))));
const clip = EXPECTED.models.clip;
/** transformers' CLIP features for 'a photo of a cat' and 'two dogs playing in the snow', and for gradient.png. */
const wantTexts = [unit(clip.text_features[0]), unit(clip.text_features[2])];
const wantImages = [unit(clip.image_features[0])];

/** Checks of each example's output; the same whichever way the project was installed. */
const CHECKS: Record<Exclude<ExampleName, 'core'>, (out: Record<string, unknown>) => void> = {
  tokenizer: (out) => {
    const ids = EXPECTED_ZH.models['chinese-clip'].input_ids;
    expect(EXPECTED_ZH.captions[0]).toBe('一只猫坐在垫子上');
    expect(EXPECTED_ZH.captions[3]).toBe('A photo of a cat');
    expect(out.ids).toEqual([ids[0], ids[3]]);
    expect(out.text).toBe('a photo of a cat');
  },
  eval: (out) => {
    const bleu = out.bleu as number[];
    for (const [k, b] of bleu.entries()) expect(Math.abs(b - CAPTIONS.bleu[k])).toBeLessThan(1e-6);
    expect(Math.abs((out.ciderD as number) - CAPTIONS.ciderD)).toBeLessThan(1e-6);
    expect(Math.abs((out.rougeL as number) - CAPTIONS.rougeL)).toBeLessThan(1e-6);
    // 'the dog face moves left' against the tokens of "The dog's face slides left!": the, dog, face, left match of 6.
    expect(out.bleu1).toBeCloseTo((4 / 6) * 1, 6);
  },
  patches: (out) => {
    expect(out.shape).toEqual([1, 3, 32, 32]);
    const first = (EXPECTED.pixel_values.data as number[]).slice(0, 3 * 32 * 32); // gradient.png, by transformers
    expect(Math.abs((out.mean as number) - first.reduce((a, b) => a + b, 0) / first.length)).toBeLessThan(1e-4);
  },
  transformer: (out) => {
    expect(out.vision).toEqual([
      [2, 17, 32],
      [2, 32],
    ]);
    expect(out.text).toEqual([
      [2, 4, 32],
      [2, 32],
    ]);
    expect(out.finite).toBe(true);
  },
  objectives: (out) => {
    expect(Math.abs((out.loss as number) - Math.log(1 + Math.exp(-1)))).toBeLessThan(1e-6);
    expect(out.accuracy).toBe(1);
  },
  models: (out) => {
    expect(maxDiff(out.texts as number[][], wantTexts)).toBeLessThan(1e-4);
    expect(maxDiff(out.images as number[][], wantImages)).toBeLessThan(1e-4);
  },
  index: (out) => {
    // Cosines of (0.8, 0.6, 0) with (0.6, 0.8, 0) and (1, 0, 0); the cat (0, 1, 0) scores 0.6.
    const hits = out.hits as [string, number][];
    expect(hits.map((h) => h[0])).toEqual(['dog', 'heart']);
    expect(hits[0]?.[1]).toBeCloseTo(0.96, 6);
    expect(hits[1]?.[1]).toBeCloseTo(0.8, 6);
  },
  train: (out) => {
    expect(out.last as number).toBeLessThan((out.first as number) / 10);
    expect(out.w as number).toBeCloseTo(3, 0);
  },
};

let full: string;
let noAddon: string;
let light: string;

beforeAll(async () => {
  mkdirSync(tarballs);
  const { stdout } = await npm(['pack', '--workspaces', '--json', '--ignore-scripts', '--pack-destination', tarballs], ROOT);
  packed = JSON.parse(stdout);
  const names = packed.map((p) => p.name);
  [full, noAddon, light] = await Promise.all([
    project('full', names, ['--ignore-scripts']),
    project(
      'no-addon',
      names.filter((n) => n !== '@tessera/native'),
      ['--omit=optional'],
    ),
    project('light', ['@tessera/base', '@tessera/tokenizer', '@tessera/eval'], []),
  ]);
}, 600_000);

// Three projects of node_modules: removing them takes a while on a slow disk.
afterAll(() => rm(work, { recursive: true, force: true }), 300_000);

describe('npm pack', () => {
  it('packs every workspace package, and prints their sizes', () => {
    const workspaces = ['packages', 'apps', 'datasets'].flatMap((d) => readdirSync(path.join(ROOT, d)).map((p) => path.join(ROOT, d, p)));
    const expected = workspaces
      .filter((d) => existsSync(path.join(d, 'package.json')))
      .map((d) => JSON.parse(readFileSync(path.join(d, 'package.json'), 'utf8')).name);
    expect(packed.map((p) => p.name).sort()).toEqual(expected.sort());
    console.log(
      ['| package | tarball | unpacked | files |', '| --- | ---: | ---: | ---: |']
        .concat(
          packed.map(
            (p) => `| ${p.name} | ${(p.size / 1024).toFixed(1)} kB | ${(p.unpackedSize / 1024).toFixed(1)} kB | ${p.files.length} |`,
          ),
        )
        .join('\n'),
    );
  });

  it('ships no tests, fixtures, benchmarks or build info', () => {
    const unwanted = /(^|\/)(test|tests|fixtures|bench)\/|\.(test|spec|bench)\.[cm]?[jt]s$|\.tsbuildinfo$/;
    for (const p of packed) expect(p.files.map((f) => f.path).filter((f) => unwanted.test(f))).toEqual([]);
  });

  it('ships the built ESM and its types for every entry point', () => {
    for (const p of packed) {
      const files = p.files.map((f) => f.path);
      expect(files).toContain('dist/index.js');
      expect(files).toContain('dist/index.d.ts');
      expect(files).toContain('package.json');
      expect(files).toContain('LICENSE'); // Apache-2.0 asks that a copy goes with every redistribution
    }
  });

  it('ships every file its exports and imports maps name, under every condition (browser included)', () => {
    const dirs = ['packages', 'apps', 'datasets'].flatMap((d) => readdirSync(path.join(ROOT, d)).map((p) => path.join(ROOT, d, p)));
    const manifests = dirs
      .filter((d) => existsSync(path.join(d, 'package.json')))
      .map((d) => JSON.parse(readFileSync(path.join(d, 'package.json'), 'utf8')));
    const targets = (map: unknown): string[] =>
      typeof map === 'string' ? [map] : map && typeof map === 'object' ? Object.values(map).flatMap(targets) : [];
    for (const p of packed) {
      const manifest = manifests.find((m) => m.name === p.name);
      const files = new Set(p.files.map((f) => f.path));
      const missing = [...targets(manifest?.exports), ...targets(manifest?.imports)]
        .map((t) => t.replace(/^\.\//, ''))
        .filter((t) => !t.includes('*') && !files.has(t));
      expect(missing, p.name).toEqual([]);
    }
  });
});

describe('installed from the tarballs, install scripts not run (the addon is not built)', () => {
  it('runs on wasm and backendInfo() says why the native kernels are off and how to build them', async () => {
    const out = await example(full, 'core');
    expect(out.name).toBe('wasm');
    expect(out.native).toMatchObject({ active: false });
    expect((out.native as { reason: string }).reason).toMatch(/off: the addon is not built .*npm install-scripts approve @tessera\/native/);
  });

  for (const [name, check] of Object.entries(CHECKS)) {
    it(`${name}: the README example`, async () => check(await example(full, name as ExampleName)));
  }

  it('tessera --help and tessera embed from the packed @tessera/cli', async () => {
    const help = await run('npx', ['--no-install', 'tessera', '--help'], { cwd: full });
    for (const command of ['train', 'embed', 'search', 'serve']) expect(help.stdout).toContain(command);
    const { stdout } = await run(
      'npx',
      [
        '--no-install',
        'tessera',
        'embed',
        '--checkpoint',
        'clip',
        '--text',
        'a photo of a cat',
        '--text',
        'two dogs playing in the snow',
        '--image',
        'gradient.png',
        '--json',
      ],
      { cwd: full, maxBuffer: 1 << 24 },
    );
    const embeddings = JSON.parse(stdout);
    expect(maxDiff(embeddings.texts, wantTexts)).toBeLessThan(1e-4);
    expect(maxDiff(embeddings.images, wantImages)).toBeLessThan(1e-4);
  });
});

describe('with the addon built (npm rebuild @tessera/native)', () => {
  beforeAll(async () => {
    await run('npm', ['rebuild', '@tessera/native', '--foreground-scripts'], { cwd: full, maxBuffer: 1 << 24 });
  }, 300_000);

  it('registers the native kernels', async () => {
    const out = await example(full, 'core');
    expect(out.name).toBe('wasm');
    expect(out.native).toMatchObject({ active: true });
    expect((out.native as { reason: string }).reason).toMatch(/^on: @tessera\/native/);
  });

  for (const name of ['transformer', 'objectives', 'models', 'train'] as const) {
    it(`${name}: the README example gives the same values`, async () => CHECKS[name](await example(full, name)));
  }
});

describe('without the addon package (--omit=optional, @tessera/native not installed)', () => {
  it('has no @tessera/native, runs on wasm, and says so', async () => {
    expect(existsSync(path.join(noAddon, 'node_modules/@tessera/native'))).toBe(false);
    const out = await example(noAddon, 'core');
    expect(out.name).toBe('wasm');
    expect((out.native as { reason: string }).reason).toMatch(/^off: @tessera\/native is not installed/);
  });

  // sharp and LanceDB lose their own platform binaries (their optionalDependencies) under
  // --omit=optional, so patches, models and index need an install that keeps optional packages.
  for (const name of ['tokenizer', 'eval', 'transformer', 'objectives', 'train'] as const) {
    it(`${name}: the README example`, async () => CHECKS[name](await example(noAddon, name)));
  }
});

describe('@tessera/tokenizer and @tessera/eval installed alone', () => {
  it('install no tensor library', () => {
    const installed = readdirSync(path.join(light, 'node_modules'));
    expect(installed).not.toContain('@tensorflow');
    expect(readdirSync(path.join(light, 'node_modules/@tessera')).sort()).toEqual(['base', 'eval', 'tokenizer']);
  });

  for (const name of ['tokenizer', 'eval'] as const) {
    it(`${name}: the README example`, async () => CHECKS[name](await example(light, name)));
  }

  it('bundle for the browser from the installed dist/ (esbuild, platform browser): only their browser entries go in, and they encode and score', async () => {
    const result = await build({
      stdin: {
        contents: "export { Tokenizer } from '@tessera/tokenizer'; export { evaluateCaptions } from '@tessera/eval';",
        resolveDir: light,
        loader: 'js',
      },
      absWorkingDir: light,
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs).filter((f) => f !== '<stdin>');
    expect(inputs.filter((f) => !/^node_modules\/@tessera\/(base|tokenizer|eval)\/dist\//.test(f))).toEqual([]);
    expect(inputs).toContain('node_modules/@tessera/tokenizer/dist/files.browser.js');
    expect(inputs).toContain('node_modules/@tessera/base/dist/browser.js');
    // No browser at hand here: the bundle has no Node import, so Node runs it as it is.
    const code = result.outputFiles[0]?.text ?? '';
    const bundled = await import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`);
    const tokenizer = bundled.Tokenizer.fromString(readFileSync(path.join(light, 'chinese-clip/tokenizer.json'), 'utf8'));
    expect(EXPECTED_ZH.captions.map((c: string) => tokenizer.encode(c).ids)).toEqual(EXPECTED_ZH.models['chinese-clip'].input_ids);
    expect(() => bundled.Tokenizer.fromFile('chinese-clip/tokenizer.json')).toThrow(expect.objectContaining({ code: 'E_PLATFORM' }));
    expect(Math.abs(bundled.evaluateCaptions(CAPTIONS.items).ciderD - CAPTIONS.ciderD)).toBeLessThan(1e-6);
  });
});
