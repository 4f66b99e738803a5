import { rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCaptionerRunConfig, trainCaptioner } from './trainCaptioner.js';

const CONFIG = path.resolve(import.meta.dirname, '../../../datasets/moving-emoji/captioner-tiny.yaml');

describe('captioner run config', () => {
  it('loads the committed tiny config, resolves its paths against the file and applies overrides', async () => {
    const c = await loadCaptionerRunConfig(CONFIG, ['--train.lr', '5e-4', '--model.textLayers', '1']);
    const root = path.resolve(import.meta.dirname, '../../..');
    expect(c.task).toBe('captioning');
    expect(c.data.manifest).toBe(path.join(root, 'data/moving-emoji/manifest.jsonl'));
    expect(c.train.outputDir).toBe(path.join(root, 'runs/captioner-tiny'));
    expect(c.train.lr).toBe(5e-4);
    expect(c.model?.textLayers).toBe(1);
    expect(c.model?.imageSize).toBe(32);
  });

  it('loads the committed CLIP-initialised config with its vision tower path resolved against the file', async () => {
    const c = await loadCaptionerRunConfig(path.join(path.dirname(CONFIG), 'captioner-clip.yaml'));
    expect(c.init.vision).toBe(path.resolve(import.meta.dirname, '../../../runs/demo/model'));
    // clip-tiny's vision tower
    expect([c.model?.imageSize, c.model?.patchSize, c.model?.visionDim, c.model?.visionLayers, c.model?.visionHeads]).toEqual([
      32, 8, 128, 3, 4,
    ]);
  });

  it('loads the committed GIT fine-tuning config: the pretrained folder resolved against the file, no model section', async () => {
    const c = await loadCaptionerRunConfig(path.join(path.dirname(CONFIG), 'captioner-git.yaml'));
    expect(c.init).toEqual({ pretrained: path.resolve(import.meta.dirname, '../../../git-base-vatex') });
    expect(c.model).toBeUndefined();
    // The folder's config.json is the architecture: a model section, or a second vision tower, is a config error naming it.
    await expect(loadCaptionerRunConfig(CONFIG, ['--init.pretrained', 'git-base-vatex'])).rejects.toMatchObject({
      code: 'E_CONFIG',
      message: expect.stringContaining('model: the architecture comes from init.pretrained'),
    });
    const clip = path.join(path.dirname(CONFIG), 'captioner-clip.yaml');
    await expect(loadCaptionerRunConfig(clip, ['--init.pretrained', 'git-base-vatex'])).rejects.toMatchObject({
      code: 'E_CONFIG',
      message: expect.stringContaining('init.vision'),
    });
  });

  it('names a bad field and rejects unknown ones', async () => {
    await expect(loadCaptionerRunConfig(CONFIG, ['--model.patchSize', '0'])).rejects.toMatchObject({ code: 'E_CONFIG' });
    await expect(loadCaptionerRunConfig(CONFIG, ['--model.colour', '1'])).rejects.toMatchObject({ code: 'E_CONFIG' });
  });

  it('names an unknown key with the nearest valid one, in every section', async () => {
    const cases: Array<[string, string]> = [
      ['--train.batchSise', 'unknown key train.batchSise — did you mean batchSize?'],
      ['--model.visionDims', 'unknown key model.visionDims — did you mean visionDim?'],
      ['--data.minCont', 'unknown key data.minCont — did you mean minCount?'],
      ['--loss.labelSmooth', 'unknown key loss.labelSmooth — did you mean labelSmoothing?'],
      ['--init.visoin', 'unknown key init.visoin — did you mean vision?'],
    ];
    for (const [flag, message] of cases) {
      await expect(loadCaptionerRunConfig(CONFIG, [flag, '1'])).rejects.toMatchObject({
        code: 'E_CONFIG',
        message: expect.stringContaining(message),
      });
    }
  });

  it('fails on a bad value before any clip is read, in the model as in the train section', async () => {
    // The manifest does not exist: reading it would be a file error, not E_CONFIG.
    const manifest = path.join(os.tmpdir(), 'tessera-no-such-dir', 'manifest.jsonl');
    const outputDir = path.join(os.tmpdir(), 'tessera-no-such-dir', 'run');
    const config = (model: Record<string, unknown>, train: Record<string, unknown>) => ({
      model,
      data: { manifest },
      train: { lr: 1e-3, steps: 2, batchSize: 4, outputDir, ...train },
    });
    await expect(trainCaptioner(config({}, { batchSize: -3 }))).rejects.toMatchObject({
      code: 'E_CONFIG',
      message: expect.stringContaining('train.batchSize'),
    });
    // 30 px frames do not split into 8 px patches: a rule of the whole model config, checked at load too.
    const file = path.join(os.tmpdir(), `tessera-captioner-${process.pid}.json`);
    await writeFile(file, JSON.stringify(config({ imageSize: 30, patchSize: 8 }, {})));
    try {
      await expect(loadCaptionerRunConfig(file)).rejects.toMatchObject({ code: 'E_CONFIG' });
      await expect(trainCaptioner(config({ imageSize: 30, patchSize: 8 }, {}))).rejects.toMatchObject({ code: 'E_CONFIG' });
    } finally {
      await rm(file, { force: true });
    }
    await expect(stat(outputDir)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
