import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { initBackend } from '@tessera/core';
import { buildEmojiDataset } from '@tessera/dataset-emoji';
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
