import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfigFile } from '@tessera/train';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRunConfig, parseRunConfig } from './runConfig.js';
import { trainClip } from './trainClip.js';

const CLIP_TINY = path.resolve(import.meta.dirname, '../../../datasets/emoji/clip-tiny.yaml');
const CLIP_FINETUNE = path.resolve(import.meta.dirname, '../../../datasets/emoji/clip-finetune.yaml');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tessera-runconfig-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const message = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a config error');
    },
    (error: { code?: string; message: string }) => {
      expect(error.code).toBe('E_CONFIG');
      return error.message;
    },
  );

describe('CLIP run config', () => {
  it("loads the committed clip-tiny config with the trainer's defaults and overrides", async () => {
    const c = await loadRunConfig(CLIP_TINY, ['--train.lr', '5e-4']);
    expect(c.task).toBe('clip');
    expect(c.train.lr).toBe(5e-4);
    expect(c.train.batchSize).toBe(128);
    // The preset with its start temperature changed: expanded to the full model config at load.
    expect(c.model).toMatchObject({ type: 'clip', name: 'clip-tiny-hf', initLogitScale: 3.912, vision: { preNorm: true } });
    expect((await loadRunConfig(CLIP_TINY, ['--model.initLogitScale', '2.6592'])).model).toMatchObject({ initLogitScale: 2.6592 });
    // Defaults of @tessera/train's schema, filled at load.
    expect([c.train.accumulation, c.train.schedule, c.train.evalEvery]).toEqual([1, 'cosine', 0]);
    expect(c.budget?.minutes).toBe(3.5);
    // The demo's recipe uses both cores; a config that says nothing runs one thread.
    expect([c.backend.threads, (await loadRunConfig(CLIP_TINY, ['--backend.threads', '1'])).backend.threads]).toEqual([2, 1]);
    expect(
      parseRunConfig({ model: 'clip-tiny', data: { train: 't.jsonl' }, train: { lr: 1e-3, steps: 1, batchSize: 2, outputDir: 'o' } })
        .backend,
    ).toEqual({ threads: 1 });
  });

  it('loads the committed fine-tuning config once a pretrained folder is given', async () => {
    expect(await message(loadRunConfig(CLIP_FINETUNE))).toContain('model: set model (a preset such as clip-tiny, or a config) or init');
    // What `tessera train --init <dir>` does to the file's config.
    const c = parseRunConfig({ ...(await loadConfigFile(CLIP_FINETUNE)), init: 'clip-vit-base-patch32' });
    expect([c.init, c.model, c.train.lr, c.train.steps]).toEqual(['clip-vit-base-patch32', undefined, 1e-5, 500]);
  });

  it('names an unknown key with the nearest valid one, in every section', async () => {
    expect(await message(loadRunConfig(CLIP_TINY, ['--train.batchSise', '64']))).toContain(
      'unknown key train.batchSise — did you mean batchSize?',
    );
    expect(await message(loadRunConfig(CLIP_TINY, ['--data.languagez', '[en]']))).toContain(
      'unknown key data.languagez — did you mean languages?',
    );
    expect(await message(loadRunConfig(CLIP_TINY, ['--data.augment.hu', '0.1']))).toContain(
      'unknown key data.augment.hu — did you mean hue?',
    );
    expect(await message(loadRunConfig(CLIP_TINY, ['--budget.minuets', '1']))).toContain(
      'unknown key budget.minuets — did you mean minutes?',
    );
    // An inline model config (a union with preset names): the typo inside it is still named.
    const file = path.join(dir, 'inline.json');
    const model = {
      type: 'clip',
      embedDim: 8,
      vision: { imageSize: 16, patchSize: 8, dim: 16, numHeads: 2, numLayer: 1 },
      text: { vocabSize: 1, maxPositions: 16, dim: 16, numHeads: 2, numLayers: 1 },
    };
    await writeFile(file, JSON.stringify({ model, data: { train: 'x.jsonl' }, train: { lr: 1, steps: 1, batchSize: 2, outputDir: 'o' } }));
    expect(await message(loadRunConfig(file))).toContain('unknown key model.vision.numLayer — did you mean numLayers?');
    // A preset with changed fields: a typo in them, or an unknown preset, is named too.
    expect(await message(loadRunConfig(CLIP_TINY, ['--model.initLogitScal', '3']))).toContain(
      'unknown key model.initLogitScal — did you mean initLogitScale?',
    );
    expect(await message(loadRunConfig(CLIP_TINY, ['--model.initLogitScale', 'big']))).toContain('model.initLogitScale');
    expect(await message(loadRunConfig(CLIP_TINY, ['--model.preset', 'clip-tinny']))).toContain(
      "model.preset: unknown model preset 'clip-tinny'; choose one of: clip-tiny",
    );
  });

  it('fails on a bad value before any data work: no output directory, tokenizer or decoded image', async () => {
    const manifest = path.join(dir, 'missing.jsonl'); // reading it would be an E_FILE error, not E_CONFIG
    const outputDir = path.join(dir, 'never');
    const config = (train: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
      trainClip({
        model: 'clip-tiny',
        data: { train: manifest },
        train: { lr: 1e-3, steps: 2, batchSize: 8, outputDir, ...train },
        ...extra,
      });
    expect(await message(config({ batchSize: -3 }))).toContain('train.batchSize');
    expect(await message(config({ batchSize: 1 }))).toContain('train.batchSize: the contrastive loss needs negatives');
    expect(await message(config({}, { backend: { threads: 0 } }))).toContain('backend.threads: ');
    expect(await message(config({}, { backend: { thread: 2 } }))).toContain('backend.thread');
    expect(await message(config({}, { model: 'clip-tinny' }))).toContain('model: ');
    expect(await message(config({}, { data: { train: manifest, maxTextLength: 4096 } }))).toContain(
      "data.maxTextLength: 4096 exceeds the model's text.maxPositions",
    );
    expect(await message(config({ steps: undefined }))).toContain('set train.steps, train.epochs or budget.minutes');
    // A run starts from a preset or from a pretrained folder, not both, and brings that folder's tokenizer.
    expect(await message(config({}, { init: 'some/folder' }))).toContain('model: init takes the architecture from its folder');
    expect(await message(config({}, { model: undefined }))).toContain('model: set model (a preset such as clip-tiny');
    expect(await message(config({}, { model: undefined, init: 'f', tokenizer: { path: 't.json' } }))).toContain(
      "tokenizer.path: init brings its folder's tokenizer",
    );
    // Training data is a manifest or shards, exactly one of them.
    expect(await message(config({}, { data: { train: manifest, shards: 'shards/{00000..00009}.tar' } }))).toContain(
      'data.shards: give the training data once: data.train (a manifest) or data.shards',
    );
    expect(await message(config({}, { data: {} }))).toContain('data.train: give the training data once');
    expect(await message(config({}, { data: { shards: '' } }))).toContain('data.shards');
    // A rank of worldSize splits shards: integers, rank below worldSize, and only with shards.
    const shards = 'shards/{00000..00009}.tar';
    expect(await message(config({}, { data: { shards, rank: 2, worldSize: 2 } }))).toContain(
      'data.rank: rank 2 must be below worldSize 2 (ranks are 0..worldSize-1)',
    );
    expect(await message(config({}, { data: { shards, rank: 1 } }))).toContain('data.rank: rank 1 must be below worldSize 1');
    expect(await message(config({}, { data: { shards, rank: 0.5, worldSize: 2 } }))).toContain('data.rank');
    expect(await message(config({}, { data: { shards, worldSize: 0 } }))).toContain('data.worldSize');
    expect(await message(config({}, { data: { shards, shuffleBuffer: 0 } }))).toContain('data.shuffleBuffer');
    expect(await message(config({}, { data: { train: manifest, rank: 0, worldSize: 2 } }))).toContain(
      'data.rank: rank/worldSize split WebDataset shards between processes: use them with data.shards',
    );
    await expect(stat(outputDir)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
