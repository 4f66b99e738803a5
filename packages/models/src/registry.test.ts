import { initBackend, isTesseraError } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { TINY_CLIP } from '../test/tiny.js';
import { parseModelConfig } from './config.js';
import { DualEncoder } from './dualEncoder.js';
import { FusionModel } from './fusionModel.js';
import { createModel, expandPreset, listModels, modelConfig } from './registry.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

describe('model registry', () => {
  it('lists the presets and builds each kind', () => {
    expect(listModels()).toEqual(expect.arrayContaining(['clip-tiny', 'clip-small', 'albef-tiny']));
    const clip = createModel('clip-tiny', { vocabSize: 100 });
    expect(clip.model).toBeInstanceOf(DualEncoder);
    expect(clip.config.type === 'clip' && clip.config.text.vocabSize).toBe(100);
    clip.model.dispose();
    const albef = createModel('albef-tiny', { vocabSize: 50 });
    expect(albef.model).toBeInstanceOf(FusionModel);
    albef.model.dispose();
  });

  it('counts parameters as the architecture dictates (hand count for the tiny test config)', () => {
    const { model } = createModel(TINY_CLIP);
    // Per pre-LN block of width d, MLP m: 4 attention projections (d*d + d) + 2 LayerNorms (2d each) + MLP (d*m + m + m*d + d).
    const block = (d: number, m: number) => 4 * (d * d + d) + 4 * d + (d * m + m + m * d + d);
    const vision = 3 * 4 * 4 * 16 + 16 + 16 + (4 + 1) * 16 + block(16, 32) + 2 * 16; // patch proj, cls, positions, block, final LN
    const text = 20 * 16 + 8 * 16 + block(16, 32) + 2 * 16; // tokens, positions, block, final LN
    const heads = 8 * 16 + 8 * 16 + 1; // two projections without bias, logit scale
    expect(model.parameterCount()).toBe(vision + text + heads);
    model.dispose();
  });

  it('rejects an unknown preset and a bad config with the field path', () => {
    expect(() => modelConfig('clip-huge')).toThrow(/clip-tiny/);
    try {
      createModel({ ...TINY_CLIP, vision: { imageSize: 10, patchSize: 4, dim: 16, numHeads: 2, numLayers: 1 } } as never);
      expect.unreachable();
    } catch (error) {
      expect(isTesseraError(error, 'E_CONFIG')).toBe(true);
      expect((error as Error).message).toContain('vision.patchSize');
    }
    expect(() => createModel({ ...TINY_CLIP, extra: 1 } as never)).toThrow(/extra/);
  });

  it('expands a preset with changed fields: nested objects merged key by key, the rest kept', () => {
    const spec = expandPreset({ preset: 'clip-tiny-hf', initLogitScale: Math.log(50), vision: { numLayers: 4 } });
    const config = parseModelConfig(spec);
    const preset = modelConfig('clip-tiny-hf');
    expect(config).toEqual({ ...preset, initLogitScale: Math.log(50), vision: { ...preset.vision, numLayers: 4 } });
    // The preset itself is untouched.
    expect([modelConfig('clip-tiny-hf').initLogitScale, modelConfig('clip-tiny-hf').vision.numLayers]).toEqual([Math.log(1 / 0.07), 3]);
    expect(() => expandPreset({ preset: 'clip-huge' })).toThrow(/unknown model preset 'clip-huge'; choose one of: clip-tiny/);
    // Not validated here: the caller's schema names the bad field.
    expect(() => parseModelConfig(expandPreset({ preset: 'clip-tiny', initLogitScal: 3 }))).toThrow(
      /initLogitScal — did you mean initLogitScale/,
    );
  });
});
