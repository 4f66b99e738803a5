import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProgram } from './program.js';

const run = promisify(execFile);
// The sources under test, not a possibly stale dist/ (bin/tessera.js prefers dist/ when built).
const main = fileURLToPath(new URL('./main.ts', import.meta.url));
const tsx = import.meta.resolve('tsx');

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

function allCommands(cmd: Command, prefix: string[] = []): { path: string[]; cmd: Command }[] {
  return cmd.commands.flatMap((c) => [{ path: [...prefix, c.name()], cmd: c }, ...allCommands(c, [...prefix, c.name()])]);
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tessera-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('tessera', () => {
  it('prints help for the program and for train as a child process', async () => {
    const top = await tessera(['--help'], dir);
    expect(top.code).toBe(0);
    for (const name of ['data', 'train', 'eval', 'finetune', 'models']) expect(top.stdout).toContain(name);
    const train = await tessera(['train', '--help'], dir);
    expect(train.code).toBe(0);
    expect(train.stdout).toContain('--resume');
    expect(train.stdout).toContain('--train.lr');
  });

  it('documents every command', () => {
    const commands = allCommands(createProgram());
    expect(commands.map((c) => c.path.join(' '))).toEqual(
      expect.arrayContaining(['data emoji', 'data shard', 'train', 'eval retrieval', 'finetune', 'models']),
    );
    for (const { path: p, cmd } of commands) {
      expect(cmd.description(), `${p.join(' ')} has a description`).not.toBe('');
      for (const option of cmd.options) expect(option.description, `${p.join(' ')} ${option.flags}`).not.toBe('');
      expect(cmd.helpInformation()).toContain(`Usage: tessera ${p.join(' ')}`);
    }
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
    const typo = await tessera(['train', '--config', config, '--budgetMinutes', '10'], dir);
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain('unrecognised argument(s): --budgetMinutes 10');
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
    const metrics = (await readFile(path.join(dir, 'run/metrics.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(metrics.filter((m) => m.kind === 'train').map((m) => m.step)).toEqual([1, 2, 3]);
    const dataRecord = metrics.find((m) => m.kind === 'data');
    expect(dataRecord?.skipped).toBe(2);
    expect(dataRecord?.['skipped/malformed_line']).toBe(1);

    const evaluated = await tessera(
      ['eval', 'retrieval', '--checkpoint', 'run/model', '--data', 'emoji/test.jsonl', '--lang', 'en,zh', '--json'],
      dir,
    );
    expect(evaluated.code, evaluated.stderr).toBe(0);
    const report = JSON.parse(evaluated.stdout);
    const rows = (await readFile(path.join(dir, 'emoji/test.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    for (const lang of ['en', 'zh']) {
      const captions = rows.reduce(
        (s: number, r: { captions: { lang: string }[] }) => s + r.captions.filter((c) => c.lang === lang).length,
        0,
      );
      expect(report[lang].texts).toBe(captions);
      expect(report[lang].images).toBe(rows.length);
      for (const dir of ['textToImage', 'imageToText']) {
        const m = report[lang][dir];
        expect(m.r1).toBeLessThanOrEqual(m.r5);
        expect(m.r5).toBeLessThanOrEqual(m.r10);
        expect(m.medianRank).toBeGreaterThanOrEqual(1);
        expect(m.meanRank).toBeLessThanOrEqual(dir === 'textToImage' ? rows.length : captions);
      }
    }

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
    const train = (await readFile(path.join(dir, 'emoji/train.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(classes.classes).toEqual([...new Set(train.map((r: { category: string }) => r.category))].sort());
    expect(classes.accuracy).toBeGreaterThanOrEqual(0);
    expect(classes.accuracy).toBeLessThanOrEqual(1);
    expect(tuned.stdout).toContain(`${classes.classes.length} classes`);
  });

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

    const nothing = await tessera(['serve'], dir);
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toContain('nothing to serve');

    const child = spawn(
      process.execPath,
      [
        '--import',
        tsx,
        '--conditions=development',
        main,
        'serve',
        '--store',
        'emoji.store',
        '--captioner',
        'captioner/model',
        '--port',
        '0',
      ],
      { cwd: dir, env: { ...process.env, CI: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const match = /at (http:\/\/\S+)/.exec(out);
          if (match) resolve(match[1] as string);
        });
        child.once('exit', (code) => reject(new Error(`serve exited with ${code}`)));
      });
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
      expect((await fetch(`${url}/nowhere`)).status).toBe(404);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
