import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { serve } from '@hono/node-server';
import { initBackend } from '@tessera/core';
import { readManifest } from '@tessera/data';
import { buildMovingEmojiDataset } from '@tessera/dataset-moving-emoji';
import { GitCaptioner, loadCaptioner } from '@tessera/models';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadCaptionSet } from './captionDataset.js';
import { createCaptionRoute } from './captionRoute.js';
import { captionVideo } from './captionVideo.js';
import { createCaptionCommand, createCaptioningCommands } from './commands.js';
import { evaluateCaptioner } from './evaluateCaptioner.js';
import { trainCaptioner } from './trainCaptioner.js';

// Tiny GitForCausalLM folders and transformers' outputs on frames of tree.avi (make_git.py).
const FIXTURES = path.resolve(import.meta.dirname, '../../../packages/models/test/fixtures/pretrained');
const GIT = path.join(FIXTURES, 'git');
const GIT_VIDEO = path.join(FIXTURES, 'git-video');
const PHOTO = path.join(FIXTURES, 'tree-frame-0.png');
const TREE = path.resolve(import.meta.dirname, '../../../packages/patches/test/fixtures/tree_2s.avi');
const want = JSON.parse(await readFile(path.join(FIXTURES, 'git_expected.json'), 'utf8')) as {
  max_new_tokens: number;
  git: { greedy: number[][]; beam3: number[][] };
};
const SEP = 3;
const untilEos = (r: number[]) => (r.includes(SEP) ? r.slice(0, r.indexOf(SEP)) : r);

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

describe('captioning with a Hugging Face GIT folder', () => {
  it("captions a photo with transformers' greedy and beam-3 ids, decoded by the checkpoint's tokenizer", async () => {
    const captioner = await loadCaptioner(GIT);
    const greedy = await captionVideo(captioner, PHOTO, { beams: 1, maxNewTokens: want.max_new_tokens });
    expect(greedy.tokens).toEqual(untilEos(want.git.greedy[0] as number[]));
    expect(greedy.caption).toBe(captioner.text.decode(greedy.tokens));
    expect(greedy.caption).not.toMatch(/\[(CLS|SEP|PAD)\]/);
    const beam = await captionVideo(captioner, PHOTO, { beams: 3, maxNewTokens: want.max_new_tokens });
    expect(beam.tokens).toEqual(untilEos(want.git.beam3[0] as number[]));
    await expect(captionVideo(captioner, PHOTO, { lang: 'zh' })).rejects.toMatchObject({ code: 'E_INPUT' });
    captioner.model.dispose();
  });

  it('captions a real clip with the video checkpoint (4 frames evenly over it) from `tessera caption`', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      await createCaptionCommand().parseAsync(['node', 'caption', TREE, '--checkpoint', GIT_VIDEO, '--beam', '2', '--json'], {
        from: 'node',
      });
      const printed = JSON.parse(String(log.mock.calls[0]?.[0]));
      expect(printed).toMatchObject({ video: TREE, lang: 'en', beams: 2 });
      expect(printed.tokens.length).toBeGreaterThan(0);
      const captioner = await loadCaptioner(GIT_VIDEO);
      expect(printed.caption).toBe(captioner.text.decode(printed.tokens));
      captioner.model.dispose();
    } finally {
      log.mockRestore();
    }
  });

  it('answers POST /caption for an uploaded photo with the same caption', async () => {
    const captioner = await loadCaptioner(GIT);
    const app = createCaptionRoute(captioner);
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
    });
    try {
      const form = new FormData();
      form.append('video', new Blob([await readFile(PHOTO)]), 'tree.png');
      const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/caption`, { method: 'POST', body: form });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { tokens: number[]; caption: string };
      expect(body.tokens).toEqual(untilEos(want.git.greedy[0] as number[]));
      expect(body.caption).toBe(captioner.text.decode(body.tokens));
    } finally {
      await new Promise((resolve) => server.close(resolve));
      captioner.model.dispose();
    }
  });
});

describe('fine-tuning a Hugging Face GIT folder with tessera train', () => {
  // Words of the fixture's WordPiece vocabulary (make_git.py), one caption per clip.
  const CAPTIONS = ['a tree in the wind', 'the man is on the sky', 'green leafs move slowly', 'a slow man of the tree'];
  let dir: string;
  let manifest: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'tessera-git-finetune-'));
    const built = await buildMovingEmojiDataset({
      outDir: path.join(dir, 'set'),
      clips: 4,
      concepts: 4,
      size: 32,
      emojiSize: 20,
      frames: 4,
      twoObjectFraction: 0,
      testFraction: 0,
      seed: 3,
    });
    const rows = (await readManifest(built.manifests.all)).records.map((r, i) => ({
      video: path.join('set', r.key),
      // The zh caption is one GIT does not write: it is left out of training.
      captions: [
        { text: CAPTIONS[i], lang: 'en' },
        { text: '一棵树', lang: 'zh' },
      ],
      split: 'train',
    }));
    manifest = path.join(dir, 'train.jsonl');
    await writeFile(manifest, rows.map((r) => JSON.stringify(r)).join('\n'));
  }, 60_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  // A constant learning rate: a 2-step run raised to 4 steps trains as a 4-step run.
  const run = (pretrained: string, outputDir: string, steps: number) => ({
    init: { pretrained },
    data: { manifest },
    loss: { labelSmoothing: 0 },
    train: { lr: 3e-3, schedule: 'constant' as const, steps, batchSize: 4, weightDecay: 0, outputDir, seed: 1 },
  });

  it('overfits four clips: the loss falls and the saved folder reloads and writes the training captions', async () => {
    const trained = await trainCaptioner(run(GIT_VIDEO, path.join(dir, 'run'), 100));
    expect(trained.clips).toBe(4);
    const losses = trained.result.losses;
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b) / xs.length;
    expect(mean(losses.slice(-5))).toBeLessThan(mean(losses.slice(0, 5)) / 5);
    const captioner = await loadCaptioner(trained.modelDir);
    expect(captioner.kind).toBe('git');
    expect(captioner.model).toBeInstanceOf(GitCaptioner);
    expect(captioner.model.numFrames).toBe(4);
    const set = await loadCaptionSet(manifest, { numFrames: 4, imageSize: 32, processor: captioner.processor, langs: ['en'] });
    const en = evaluateCaptioner(captioner, set.clips, { lang: 'en' });
    expect(en.examples.map((x) => x.candidate)).toEqual(CAPTIONS);
    captioner.model.dispose();
    // eval captions on the fine-tuned folder: English only, the language GIT writes.
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      const evalCmd = createCaptioningCommands().find((c) => c.name() === 'eval');
      await evalCmd?.parseAsync(['node', 'eval', 'captions', '--checkpoint', trained.modelDir, '--data', manifest, '--json'], {
        from: 'node',
      });
      const printed = JSON.parse(String(log.mock.calls[0]?.[0]));
      expect(printed.results.map((r: { lang: string }) => r.lang)).toEqual(['en']);
      expect(printed.results[0].scores.bleu4).toBeCloseTo(1, 6);
    } finally {
      log.mockRestore();
    }
  }, 120_000);

  it('resumes from a checkpoint with the losses of an uninterrupted run', async () => {
    // Without dropout, so the uninterrupted and resumed runs draw nothing at random.
    const folder = path.join(dir, 'git-video-no-dropout');
    await cp(GIT_VIDEO, folder, { recursive: true });
    const config = JSON.parse(await readFile(path.join(folder, 'config.json'), 'utf8'));
    await writeFile(path.join(folder, 'config.json'), JSON.stringify({ ...config, hidden_dropout_prob: 0 }));
    const whole = await trainCaptioner(run(folder, path.join(dir, 'whole'), 4));
    const first = await trainCaptioner(run(folder, path.join(dir, 'resumed'), 2));
    const resumed = await trainCaptioner(run(folder, path.join(dir, 'resumed'), 4), { resume: true });
    expect([resumed.result.step, resumed.result.losses.length]).toEqual([4, 2]);
    expect([...first.result.losses, ...resumed.result.losses]).toEqual(whole.result.losses);
  }, 120_000);

  it('evaluates the pretrained folder itself with eval captions', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      const evalCmd = createCaptioningCommands().find((c) => c.name() === 'eval');
      await evalCmd?.parseAsync(['node', 'eval', 'captions', '--checkpoint', GIT_VIDEO, '--data', manifest, '--beam', '2', '--json'], {
        from: 'node',
      });
      const printed = JSON.parse(String(log.mock.calls[0]?.[0]));
      expect(printed.results).toHaveLength(1);
      expect(printed.results[0]).toMatchObject({ lang: 'en', beams: 2, scores: { count: 4 } });
      await expect(
        evalCmd?.parseAsync(['node', 'eval', 'captions', '--checkpoint', GIT_VIDEO, '--data', manifest, '--lang', 'zh'], { from: 'node' }),
      ).rejects.toMatchObject({ code: 'E_INPUT' });
    } finally {
      log.mockRestore();
    }
  });
});
