import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCaptionerRunConfig } from './trainCaptioner.js';

const CONFIG = path.resolve(import.meta.dirname, '../../../datasets/moving-emoji/captioner-tiny.yaml');

describe('captioner run config', () => {
  it('loads the committed tiny config, resolves its paths against the file and applies overrides', async () => {
    const c = await loadCaptionerRunConfig(CONFIG, ['--train.lr', '5e-4', '--model.textLayers', '1']);
    const root = path.resolve(import.meta.dirname, '../../..');
    expect(c.task).toBe('captioning');
    expect(c.data.manifest).toBe(path.join(root, 'data/moving-emoji/manifest.jsonl'));
    expect(c.train.outputDir).toBe(path.join(root, 'runs/captioner-tiny'));
    expect(c.train.lr).toBe(5e-4);
    expect(c.model.textLayers).toBe(1);
    expect(c.model.imageSize).toBe(32);
  });

  it('loads the committed CLIP-initialised config with its vision tower path resolved against the file', async () => {
    const c = await loadCaptionerRunConfig(path.join(path.dirname(CONFIG), 'captioner-clip.yaml'));
    expect(c.init.vision).toBe(path.resolve(import.meta.dirname, '../../../runs/demo/model'));
    // clip-tiny's vision tower
    expect([c.model.imageSize, c.model.patchSize, c.model.visionDim, c.model.visionLayers, c.model.visionHeads]).toEqual([
      32, 8, 128, 3, 4,
    ]);
  });

  it('names a bad field and rejects unknown ones', async () => {
    await expect(loadCaptionerRunConfig(CONFIG, ['--model.patchSize', '0'])).rejects.toMatchObject({ code: 'E_CONFIG' });
    await expect(loadCaptionerRunConfig(CONFIG, ['--model.colour', '1'])).rejects.toMatchObject({ code: 'E_CONFIG' });
  });
});
