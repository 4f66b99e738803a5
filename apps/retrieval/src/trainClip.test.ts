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
  it('trains exactly as on the manifest the shards were written from, and resumes', async () => {
    const { shards } = await writeShards({ manifest, outDir: path.join(dir, 'shards'), perShard: 4 });
    expect(shards.length).toBeGreaterThan(1);
    const spec = path.join(dir, 'shards', `shard-{000000..${String(shards.length - 1).padStart(6, '0')}}.tar`);
    const onShards = (steps: number): RunConfigInput => {
      const { train: _train, ...data } = tiny(steps).data;
      return { ...tiny(steps), data: { ...data, shards: spec }, train: { ...tiny(steps).train, outputDir: path.join(dir, 'shard-run') } };
    };
    const onManifest = (steps: number): RunConfigInput => ({
      ...tiny(steps),
      train: { ...tiny(steps).train, outputDir: path.join(dir, 'manifest-run') },
    });
    // Both runs stop after 2 steps and resume to 3 (the schedule depends on the step count).
    const losses = async (config: (steps: number) => RunConfigInput) => {
      const first = await trainClip(config(2), { progress: false });
      const resumed = await trainClip(config(3), { progress: false, resume: true });
      expect(resumed.steps).toBe(3);
      return [...first.result.losses, ...resumed.result.losses];
    };
    const manifestLosses = await losses(onManifest);
    expect(manifestLosses).toHaveLength(3);
    // Same pairs in the same order, same tokenizer, same seed: the same losses, and the resumed
    // step draws the same batch from the restored epoch position.
    expect(await losses(onShards)).toEqual(manifestLosses);
  });
});

describe('trainClip on img2dataset shards', () => {
  it('trains on the committed img2dataset fixture (captions without a language are `und`)', async () => {
    const fixture = path.resolve(import.meta.dirname, '../../../packages/data/test/fixtures/img2dataset');
    const run = await trainClip(
      {
        model: TINY_CLIP,
        data: { shards: path.join(fixture, '{00000..00002}.tar'), languages: ['und'], maxTextLength: 16, augment: false },
        train: { lr: 1e-3, steps: 2, batchSize: 4, outputDir: path.join(dir, 'img2dataset-run') },
      },
      { progress: false },
    );
    // 7 samples in 3 shards: one full batch of 4 per epoch (the short one is dropped).
    expect(run.steps).toBe(2);
    expect(run.result.samples).toBe(8);
    expect(run.result.losses.every(Number.isFinite)).toBe(true);
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
