import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { initBackend } from '@tessera/core';
import { writeShards } from '@tessera/data';
import { buildEmojiDataset } from '@tessera/dataset-emoji';
import { exportHf, loadModel } from '@tessera/models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TINY_CLIP } from '../test/fixture.js';
import type { RunConfigInput } from './runConfig.js';
import { trainClip } from './trainClip.js';

let dir: string;
let manifest: string;

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  dir = await mkdtemp(path.join(tmpdir(), 'tessera-trainclip-'));
  manifest = (await buildEmojiDataset({ outDir: path.join(dir, 'emoji'), limit: 12 })).splits.train.manifest;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const tiny = (steps: number): RunConfigInput => ({
  model: TINY_CLIP,
  data: { train: manifest, languages: ['en', 'zh'], maxTextLength: 16, augment: false },
  train: { lr: 1e-3, steps, batchSize: 4, outputDir: path.join(dir, 'run') },
});

describe('trainClip --resume', () => {
  it('on a finished run trains nothing and reports its step; with more steps it continues', async () => {
    const first = await trainClip(tiny(2), { progress: false });
    expect([first.steps, first.result.losses.length]).toEqual([2, 2]);

    const again = await trainClip(tiny(2), { progress: false, resume: true });
    expect(again.steps).toBe(2);
    expect(again.result.losses).toEqual([]);

    const more = await trainClip(tiny(3), { progress: false, resume: true });
    expect(more.steps).toBe(3);
    expect(more.result.losses).toHaveLength(1);
    const steps = (await readFile(path.join(dir, 'run/metrics.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((m) => m.kind === 'train')
      .map((m) => m.step);
    expect(steps).toEqual([1, 2, 3]);
  });
});

describe('trainClip on WebDataset shards (data.shards)', () => {
  let spec: string;
  beforeAll(async () => {
    // The 11 training pairs in shards of 4, 4 and 3.
    const { shards, samples } = await writeShards({ manifest, outDir: path.join(dir, 'shards'), perShard: 4 });
    expect([shards.length, samples]).toEqual([3, 11]);
    spec = path.join(dir, 'shards', 'shard-{000000..000002}.tar');
  });
  /** A shard run; a constant LR, so that a run stopped at step k and raised later has the uninterrupted schedule. */
  const onShards = (
    outputDir: string,
    train: Partial<RunConfigInput['train']>,
    data: Partial<RunConfigInput['data']> = {},
  ): RunConfigInput => {
    const { train: _train, ...rest } = tiny(1).data;
    const { steps: _steps, ...trainRest } = tiny(1).train;
    return {
      ...tiny(1),
      data: { ...rest, shards: spec, shuffleBuffer: 5, ...data },
      train: { ...trainRest, schedule: 'constant', outputDir: path.join(dir, outputDir), ...train },
    };
  };

  it('streams the shards, and a run stopped at step 1 and at step 3 resumes to the losses of an uninterrupted one', async () => {
    const whole = await trainClip(onShards('shard-whole', { steps: 6 }), { progress: false });
    // 2 batches of 4 per epoch (3 samples dropped): stops at 1 and 3 are mid-epoch 0 and 1.
    expect([whole.steps, whole.result.samples, whole.result.losses.length]).toEqual([6, 24, 6]);
    const losses: number[] = [];
    for (const [steps, resume] of [
      [1, false],
      [3, true],
      [6, true],
    ] as const) {
      const run = await trainClip(onShards('shard-stopped', { steps }), { progress: false, resume });
      expect(run.steps).toBe(steps);
      losses.push(...run.result.losses);
    }
    expect(losses).toEqual(whole.result.losses);
  });

  it('rank 0 and rank 1 of worldSize 2 split the shards: together they train on every sample of the epoch once', async () => {
    const ranks = [];
    for (const rank of [0, 1]) {
      const config = onShards(`shard-rank${rank}`, { epochs: 1, batchSize: 2 }, { rank, worldSize: 2 });
      const run = await trainClip(config, { progress: false });
      ranks.push([run.steps, run.result.samples]);
    }
    // Rank 0 reads shards 0 and 2 (7 samples: 3 batches of 2), rank 1 shard 1 (4 samples: 2 batches).
    expect(ranks).toEqual([
      [3, 6],
      [2, 4],
    ]);
  });
});

describe('trainClip on img2dataset shards', () => {
  const fixture = path.resolve(import.meta.dirname, '../../../packages/data/test/fixtures/img2dataset');
  const onFixture = (outputDir: string, train: Partial<RunConfigInput['train']>): RunConfigInput => ({
    model: TINY_CLIP,
    data: { shards: path.join(fixture, '{00000..00002}.tar'), languages: ['und'], maxTextLength: 16, augment: false },
    train: { lr: 1e-3, batchSize: 4, outputDir: path.join(dir, outputDir), ...train },
  });

  it('trains on the committed img2dataset fixture (captions without a language are `und`)', async () => {
    const run = await trainClip(onFixture('img2dataset-run', { steps: 2 }), { progress: false });
    // 7 samples in 3 shards: one full batch of 4 per epoch (the short one is dropped).
    expect(run.steps).toBe(2);
    expect(run.result.samples).toBe(8);
    expect(run.result.losses.every(Number.isFinite)).toBe(true);
  });

  it('sizes epochs from the _stats.json files and says which shards it had to count', async () => {
    const lines: string[] = [];
    const logger = {
      debug: () => undefined,
      info: (m: string) => lines.push(m),
      warn: (m: string) => lines.push(m),
      error: () => undefined,
    };
    // make_fixture.py: 3 + 2 samples with stats files, 2 in 00002.tar without one: 7, one batch of 4 per epoch.
    const run = await trainClip(onFixture('img2dataset-epochs', { epochs: 3 }), { progress: false, logger });
    expect(lines).toContain('epoch: 7 samples in 3 shards; 1 shard without a _stats.json counted by reading them');
    expect([run.steps, run.result.epoch, run.result.stopReason]).toEqual([3, 3, 'epochs']);
  });
});

describe('trainClip from a trained model (init)', () => {
  const continued = (outputDir: string, lr: number, steps: number): RunConfigInput => ({
    init: base,
    data: { train: manifest, languages: ['en', 'zh'], maxTextLength: 16, augment: false },
    train: { lr, steps, batchSize: 4, outputDir: path.join(dir, outputDir), warmupSteps: 0 },
  });
  let base: string;
  beforeAll(async () => {
    base = (await trainClip({ ...tiny(3), train: { ...tiny(3).train, outputDir: path.join(dir, 'base') } }, { progress: false })).exportDir;
  });

  it("starts from the folder's weights, config and tokenizer", async () => {
    const run = await trainClip(continued('still', 1e-12, 1), { progress: false });
    const [before, after] = [await loadModel(base), await loadModel(run.exportDir)];
    expect(after.config).toEqual(before.config);
    expect(after.tokenizer?.vocabSize).toBe(before.tokenizer?.vocabSize);
    for (const [name, p] of after.model.namedParameters()) {
      const start = before.model.namedParameters().get(name)?.variable.dataSync() as Float32Array;
      const drift = (p.variable.dataSync() as Float32Array).reduce((m, v, i) => Math.max(m, Math.abs(v - (start[i] as number))), 0);
      expect(drift, name).toBeLessThan(1e-6);
    }
    before.model.dispose();
    after.model.dispose();
  });

  it('continues training: the loss falls and the model directory reloads', async () => {
    const run = await trainClip(continued('continued', 1e-3, 8), { progress: false });
    expect(run.result.losses.at(-1)).toBeLessThan(run.result.losses[0] as number);
    const after = await loadModel(run.exportDir);
    expect(after.model.parameterCount()).toBe(run.parameters);
    after.model.dispose();
  });
});

describe('trainClip from a Hugging Face folder (init)', () => {
  /** Tiny folders written by transformers 5.18 (packages/models/test/fixtures/pretrained/make_*.py). */
  const HF = path.resolve(import.meta.dirname, '../../../packages/models/test/fixtures/pretrained');

  for (const name of ['clip', 'siglip', 'chinese-clip']) {
    it(`${name}: fine-tunes on the user's pairs, the loss falls, and the model reloads and exports`, async () => {
      const run = await trainClip(
        {
          init: path.join(HF, name),
          data: { train: manifest, languages: ['en', 'zh'], maxTextLength: 16, augment: false },
          train: { lr: 2e-3, steps: 8, batchSize: 4, outputDir: path.join(dir, `hf-${name}`), warmupSteps: 0 },
        },
        { progress: false },
      );
      const losses = run.result.losses;
      expect(losses.every(Number.isFinite)).toBe(true);
      expect(losses.at(-1)).toBeLessThan(losses[0] as number);
      const reloaded = await loadModel(run.exportDir);
      expect(reloaded.config).toEqual((await loadModel(path.join(HF, name))).config);
      await exportHf(reloaded, path.join(dir, `hf-${name}-export`));
      reloaded.model.dispose();
    });
  }
});
