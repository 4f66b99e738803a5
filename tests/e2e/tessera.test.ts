import { type ChildProcessWithoutNullStreams, execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The user's path through Tessera, as commands: build data, train, evaluate, fine-tune, index,
// serve search and captioning, and the search page in Chromium. Each step runs `tessera` as a
// child process; the steps share one working directory and build on each other.

const run = promisify(execFile);
// The sources under test, not a possibly stale dist/ (bin/tessera.js prefers dist/ when built).
const main = fileURLToPath(new URL('../../apps/cli/src/main.ts', import.meta.url));
const bin = fileURLToPath(new URL('../../apps/cli/bin/tessera.js', import.meta.url));
const tsx = import.meta.resolve('tsx');
/** Screenshots land here (gitignored) for CI to keep as artifacts. */
const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/', import.meta.url));
/** Debian's chromium; CI installs it with `apt-get install -y chromium`. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Runs `tessera ...args` as a child process; never throws, returns code, stdout and stderr. */
async function tessera(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', tsx, '--conditions=development', main, ...args], {
      cwd,
      env: { ...process.env, CI: '1' },
      maxBuffer: 1 << 24,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Starts `tessera serve ...args --port 0` through bin/tessera.js and waits for the URL it prints. */
async function serve(args: string[]): Promise<{ child: ChildProcessWithoutNullStreams; url: string }> {
  const child = spawn(process.execPath, [bin, 'serve', ...args, '--port', '0'], {
    cwd: dir,
    env: { ...process.env, CI: '1' },
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /at (http:\/\/\S+)/.exec(out);
      if (match) resolve(match[1] as string);
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}`)));
  });
  return { child, url };
}

/** The records of a JSON Lines file. */
async function jsonLines<T = Record<string, unknown>>(file: string): Promise<T[]> {
  return (await readFile(file, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as T);
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tessera-e2e-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('tessera end to end', () => {
  it('prints help for the program and for train as a child process', async () => {
    const top = await tessera(['--help'], dir);
    expect(top.code).toBe(0);
    for (const name of ['data', 'train', 'eval', 'finetune', 'models']) expect(top.stdout).toContain(name);
    const train = await tessera(['train', '--help'], dir);
    expect(train.code).toBe(0);
    expect(train.stdout).toContain('--resume');
    expect(train.stdout).toContain('--train.lr');
  });

  it('explains a bad run config with the path of the bad field', async () => {
    const config = path.join(dir, 'bad.yaml');
    await writeFile(
      config,
      'model: clip-tiny\ndata: { train: x.jsonl, languagez: [en] }\ntrain: { lr: 1e-3, steps: 1, batchSize: 2, outputDir: out }\n',
    );
    const out = await tessera(['train', '--config', config], dir);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('error [E_CONFIG]');
    expect(out.stderr).toContain('languagez');
    expect(out.stderr).toContain('unknown key data.languagez — did you mean languages?');
    const typo = await tessera(['train', '--config', config, '--budgetMinutes', '10'], dir);
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain('unknown argument --budgetMinutes 10');
    const taskConfig = path.join(dir, 'task.yaml');
    await writeFile(taskConfig, 'task: captoning\nmodel: {}\n');
    const task = await tessera(['train', '--config', taskConfig], dir);
    expect(task.code).toBe(1);
    expect(task.stderr).toContain('unknown task "captoning" — did you mean captioning?');
    const missing = await tessera(['eval', 'retrieval', '--checkpoint', path.join(dir, 'nope'), '--data', 'x.jsonl'], dir);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('config.json');
  });

  it('builds data, trains, and evaluates retrieval end to end', async () => {
    const data = await tessera(['data', 'emoji', '--out', 'emoji', '--limit', '24'], dir);
    expect(data.code, data.stderr).toBe(0);
    // Bad records are skipped, counted by reason, and reported in the metrics log.
    await writeFile(path.join(dir, 'emoji/images/broken.png'), 'not a png');
    await writeFile(
      path.join(dir, 'emoji/train-with-bad.jsonl'),
      `${(await readFile(path.join(dir, 'emoji/train.jsonl'), 'utf8')).trimEnd()}\n{"image": "images/broken.png", "captions": [{"text": "broken", "lang": "en"}]}\n{not json\n`,
    );
    // A bad value or a typo fails at once: no tokenizer trained, no image decoded, nothing written.
    const bad = path.join(dir, 'bad-batch.yaml');
    await writeFile(
      bad,
      'model: clip-tiny\ndata: { train: emoji/train.jsonl, languages: [en, zh] }\ntrain: { lr: 1.0e-3, steps: 2, batchSize: -3, batchSise: 64, outputDir: bad-run }\n',
    );
    const rejected = await tessera(['train', '--config', bad, '--no-progress'], dir);
    expect(rejected.code).toBe(1);
    expect(rejected.stderr).toContain('train.batchSize: ');
    expect(rejected.stderr).toContain('unknown key train.batchSise — did you mean batchSize?');
    await expect(readFile(path.join(dir, 'bad-run/tokenizer.json'))).rejects.toMatchObject({ code: 'ENOENT' });

    const config = path.join(dir, 'run.yaml');
    await writeFile(
      config,
      [
        'model:',
        '  type: clip',
        '  embedDim: 16',
        '  vision: { imageSize: 16, patchSize: 8, dim: 16, numHeads: 2, numLayers: 1 }',
        '  text: { vocabSize: 1, maxPositions: 32, dim: 16, numHeads: 2, numLayers: 1, pooling: mean }',
        'data: { train: emoji/train-with-bad.jsonl, eval: emoji/test.jsonl, languages: [en, zh] }',
        'train: { lr: 1.0e-3, steps: 2, batchSize: 8, outputDir: run }',
      ].join('\n'),
    );
    const trained = await tessera(['train', '--config', config, '--no-progress', '--train.steps', '3'], dir);
    expect(trained.code, trained.stderr).toBe(0);
    expect(trained.stdout).toContain('trained 3 steps');
    const metrics = await jsonLines(path.join(dir, 'run/metrics.jsonl'));
    expect(metrics.filter((m) => m.kind === 'train').map((m) => m.step)).toEqual([1, 2, 3]);
    const dataRecord = metrics.find((m) => m.kind === 'data');
    expect(dataRecord?.skipped).toBe(2);
    expect(dataRecord?.['skipped/malformed_line']).toBe(1);

    // --resume on the finished run says so and succeeds; with more steps it continues.
    const complete = await tessera(['train', '--config', config, '--no-progress', '--train.steps', '3', '--resume'], dir);
    expect(complete.code, complete.stderr).toBe(0);
    expect(complete.stdout).toContain('the run is complete at step 3');
    expect(complete.stderr).not.toContain('E_TRAIN_DIVERGED');
    const more = await tessera(['train', '--config', config, '--no-progress', '--train.steps', '4', '--resume'], dir);
    expect(more.code, more.stderr).toBe(0);
    expect(more.stdout).toContain('trained 4 steps');
    const resumed = await jsonLines(path.join(dir, 'run/metrics.jsonl'));
    expect(resumed.filter((m) => m.kind === 'train').map((m) => m.step)).toEqual([1, 2, 3, 4]);

    const evaluated = await tessera(
      ['eval', 'retrieval', '--checkpoint', 'run/model', '--data', 'emoji/test.jsonl', '--lang', 'en,zh', '--json'],
      dir,
    );
    expect(evaluated.code, evaluated.stderr).toBe(0);
    const report = JSON.parse(evaluated.stdout);
    const rows = await jsonLines<{ captions: { lang: string }[] }>(path.join(dir, 'emoji/test.jsonl'));
    for (const lang of ['en', 'zh']) {
      const captions = rows.reduce(
        (s: number, r: { captions: { lang: string }[] }) => s + r.captions.filter((c) => c.lang === lang).length,
        0,
      );
      expect(report[lang].texts).toBe(captions);
      expect(report[lang].images).toBe(rows.length);
    }
    // The metrics from the model directory on disk equal those training computed in memory on
    // the same split (eval.json); exact R@K on a known case is evaluateRetrieval's own test.
    const inTraining = JSON.parse(await readFile(path.join(dir, 'run/model/eval.json'), 'utf8'));
    const { checkpoint: _c, data: _d, skipped: _s, ...fromDisk } = report;
    expect(fromDisk).toEqual(inTraining);

    const tuned = await tessera(
      [
        'finetune',
        '--checkpoint',
        'run/model',
        '--data',
        'emoji/train.jsonl',
        '--eval',
        'emoji/test.jsonl',
        '--label-key',
        'category',
        '--out',
        'ft',
        '--epochs',
        '1',
        '--batch-size',
        '8',
      ],
      dir,
    );
    expect(tuned.code, tuned.stderr).toBe(0);
    const classes = JSON.parse(await readFile(path.join(dir, 'ft/classes.json'), 'utf8'));
    const train = await jsonLines<{ category: string }>(path.join(dir, 'emoji/train.jsonl'));
    expect(classes.classes).toEqual([...new Set(train.map((r: { category: string }) => r.category))].sort());
    // The printed accuracy is the one saved; that fine-tuning reaches the right answer is
    // finetuneClassifier's own test (two solid colours: accuracy 1).
    expect(tuned.stdout).toContain(
      `${classes.classes.length} classes; accuracy on emoji/test.jsonl: ${(100 * classes.accuracy).toFixed(1)} %`,
    );
  }, 300_000);

  it('serves search and captioning from one `tessera serve`, and refuses to start with nothing to serve', async () => {
    // Uses the CLIP model trained above; a tiny captioner trained for two steps is enough to answer.
    const index = await tessera(['index', '--checkpoint', 'run/model', '--images', 'emoji/test.jsonl', '--store', 'emoji.store'], dir);
    expect(index.code, index.stderr).toBe(0);
    const clips = await tessera(['data', 'moving-emoji', '--out', 'moving', '--clips', '4', '--concepts', '4', '--frames', '4'], dir);
    expect(clips.code, clips.stderr).toBe(0);
    await writeFile(
      path.join(dir, 'captioner.yaml'),
      [
        'task: captioning',
        'model: { numFrames: 4, imageSize: 32, patchSize: 8, visionDim: 16, visionLayers: 1, visionHeads: 2, textDim: 16, textLayers: 1, textHeads: 2, maxLength: 24 }',
        'data: { manifest: moving/manifest.jsonl }',
        'train: { lr: 1.0e-3, steps: 2, batchSize: 4, outputDir: captioner }',
      ].join('\n'),
    );
    const trained = await tessera(['train', '--config', 'captioner.yaml', '--no-progress'], dir);
    expect(trained.code, trained.stderr).toBe(0);
    expect(trained.stdout).toContain('trained 2 steps on ');
    const complete = await tessera(['train', '--config', 'captioner.yaml', '--no-progress', '--resume'], dir);
    expect(complete.code, complete.stderr).toBe(0);
    expect(complete.stdout).toContain('the run is complete at step 2');

    const nothing = await tessera(['serve'], dir);
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toContain('nothing to serve');

    // Through bin/tessera.js, as `npx tessera` runs it in a source checkout.
    const { child, url } = await serve(['--store', 'emoji.store', '--captioner', 'captioner/model']);
    try {
      const health = (await (await fetch(`${url}/health`)).json()) as Record<string, unknown>;
      expect(health).toMatchObject({ status: 'ok', store: 'exact', captioner: { frames: 4, imageSize: 32 } });
      const search = await fetch(`${url}/search`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: 'a red heart', k: 3 }),
      });
      expect(search.status).toBe(200);
      expect(((await search.json()) as { results: unknown[] }).results).toHaveLength(3);
      const manifest = (await readFile(path.join(dir, 'moving/manifest.jsonl'), 'utf8')).split('\n')[0] as string;
      const form = new FormData();
      form.append('video', new Blob([await readFile(path.join(dir, 'moving', JSON.parse(manifest).video))]), 'clip.mp4');
      form.append('lang', 'zh');
      const captioned = await fetch(`${url}/caption`, { method: 'POST', body: form });
      expect(captioned.status).toBe(200);
      const body = (await captioned.json()) as { caption: string; lang: string; video: string };
      expect(body).toMatchObject({ lang: 'zh', video: 'clip.mp4' });
      expect(body.caption).not.toMatch(/[A-Za-z]/);
      const missing = await fetch(`${url}/nowhere`);
      expect(missing.status).toBe(404);
      expect(await missing.json()).toMatchObject({ error: 'not_found' });

      // `kill <pid>` of tessera stops the server itself: the port is free within a second.
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      process.kill(child.pid as number, 'SIGTERM');
      const refused = async () =>
        fetch(`${url}/health`, { headers: { connection: 'close' } }).then(
          () => false,
          () => true,
        );
      let free = false;
      for (let waited = 0; waited <= 1000 && !free; waited += 50) {
        free = await refused();
        if (!free) await new Promise((r) => setTimeout(r, 50));
      }
      expect(free, 'the port is free within a second of kill').toBe(true);
      await exited;
    } finally {
      child.kill('SIGKILL');
    }
  }, 300_000);

  it('shows the search page in Chromium: ranked thumbnails with scores as `tessera search` ranks them, and search by upload', async () => {
    const searched = await tessera(['search', '--store', 'emoji.store', '红心', '-k', '5', '--json'], dir);
    expect(searched.code, searched.stderr).toBe(0);
    const expected = (JSON.parse(searched.stdout) as { results: { id: string; score: number }[] }).results;
    expect(expected).toHaveLength(5);
    const { child, url } = await serve(['--store', 'emoji.store']);
    let browser: Browser | undefined;
    try {
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
      const page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
      await page.goto(url);
      await page.fill('#query', '红心');
      await page.fill('#k', '5');
      await page.click('button[type=submit]');
      await page.waitForSelector('figure.hit');
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

      // An indexed image uploaded as the query finds itself first (cosine 1).
      const [first] = await jsonLines<{ image: string }>(path.join(dir, 'emoji/test.jsonl'));
      const upload = path.join(dir, 'emoji', first?.image as string);
      await page.setInputFiles('#upload', upload);
      const top = await tessera(['search', '--store', 'emoji.store', '--image', upload, '-k', '1', '--json'], dir);
      const [best] = (JSON.parse(top.stdout) as { results: { id: string; score: number }[] }).results;
      expect(best?.id).toBe(first?.image); // the index keys manifest images by their path
      expect(best?.score).toBeCloseTo(1, 5);
      await page.waitForFunction((id) => document.querySelector('figure.hit')?.getAttribute('data-id') === id, best?.id);
      await page.screenshot({ path: path.join(ARTIFACTS, 'search-image.png'), fullPage: true });

      await page.fill('#query', '   ');
      await page.click('button[type=submit]');
      await page.waitForFunction(() => document.querySelector('#status')?.textContent?.startsWith('error:'));
      expect(await page.$$('figure.hit')).toHaveLength(0);
    } finally {
      await browser?.close();
      child.kill('SIGKILL');
    }
  }, 120_000);
});
