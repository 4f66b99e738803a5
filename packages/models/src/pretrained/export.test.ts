import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { initBackend, tf } from '@tessera/core';
import { trainWordPieceTokenizer } from '@tessera/tokenizer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expected, FIXTURES, fixturePixels, maxDiff } from '../../test/pretrained.js';
import { TINY_CLIP } from '../../test/tiny.js';
import type { ModelConfigInput } from '../config.js';
import type { DualEncoder } from '../dualEncoder.js';
import { createModel, expandPreset } from '../registry.js';
import type { TowerEncoder } from '../towerEncoder.js';
import { exportHf } from './exportHf.js';
import { loadPretrained } from './loadPretrained.js';

let work: string;
beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  work = await mkdtemp(path.join(tmpdir(), 'tessera-export-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('exportHf', () => {
  it.each(['clip', 'clip-eos', 'clip-vision'])('%s: export then reload in Tessera gives the same embeddings', async (name) => {
    const source = await loadPretrained(path.join(FIXTURES, name));
    const out = path.join(work, name);
    await exportHf(source, out);
    const again = await loadPretrained(out);
    expect(again.config).toEqual(source.config);
    const pixels = await fixturePixels(again.processor as NonNullable<typeof again.processor>);
    const a = tf.tidy(() => (source.model as DualEncoder | TowerEncoder).encodeImage(pixels).arraySync());
    const b = tf.tidy(() => (again.model as DualEncoder | TowerEncoder).encodeImage(pixels).arraySync());
    expect(maxDiff(a, b)).toBe(0);
    if (source.tokenizer) {
      expect(expected.captions.map((c) => again.tokenizer?.encode(c).ids)).toEqual(expected.models[name]?.input_ids);
    }
    const hf = JSON.parse(await readFile(path.join(out, 'config.json'), 'utf8'));
    expect(hf.architectures).toEqual(name === 'clip-vision' ? ['CLIPVisionModelWithProjection'] : ['CLIPModel']);
    pixels.dispose();
  });

  it('refuses what Hugging Face CLIP cannot express, naming the setting', async () => {
    const { model, config } = createModel(TINY_CLIP); // mean text pooling, patch bias, no pre-LN
    await expect(exportHf({ model, config }, path.join(work, 'refused'))).rejects.toMatchObject({
      code: 'E_EXPORT',
      details: { setting: 'vision.preNorm' },
    });
    const tiny = TINY_CLIP as Extract<ModelConfigInput, { type: 'clip' }>;
    const fixed = createModel({
      ...tiny,
      vision: { ...tiny.vision, preNorm: true, patchBias: false },
      text: { ...tiny.text, causal: true },
    });
    await expect(exportHf(fixed, path.join(work, 'refused'))).rejects.toMatchObject({
      code: 'E_EXPORT',
      message: expect.stringContaining('text.pooling = "mean"'),
    });
  });

  it("writes the config's start temperature as logit_scale_init_value, and reads it back", async () => {
    const start = Math.log(50); // datasets/emoji/clip-tiny.yaml's, not CLIP's default log(1/0.07)
    const tokenizer = trainWordPieceTokenizer(['red heart', 'blue car', '红心']);
    const { model, config } = createModel(expandPreset({ preset: 'clip-tiny-hf', initLogitScale: start }), {
      vocabSize: tokenizer.vocabSize,
      eosTokenId: tokenizer.specialTokens.sep?.id,
    });
    const out = path.join(work, 'logit-scale');
    await exportHf({ model, config, tokenizer }, out);
    model.dispose();
    const hf = JSON.parse(await readFile(path.join(out, 'config.json'), 'utf8'));
    expect(hf.logit_scale_init_value).toBeCloseTo(start, 6);
    const again = await loadPretrained(out);
    expect(again.config.type === 'clip' && again.config.initLogitScale).toBeCloseTo(start, 6);
    // An untrained model's learned scale is still its start value (float32).
    expect((again.model as DualEncoder).logit_scale.dataSync()[0]).toBeCloseTo(start, 5);
    again.model.dispose();
  });
});
