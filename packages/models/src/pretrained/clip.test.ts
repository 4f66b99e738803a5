import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { initBackend, tf } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expected, FIXTURES, fixturePixels, maxDiff } from '../../test/pretrained.js';
import type { DualEncoder } from '../dualEncoder.js';
import { embedImages } from '../embedImages.js';
import { embedTexts } from '../embedTexts.js';
import { loadModel } from '../modelDirectory.js';
import { tokenizeTexts } from '../textBatch.js';
import type { TowerEncoder } from '../towerEncoder.js';
import { loadHfTokenizer } from './hfTokenizer.js';
import { loadPretrained } from './loadPretrained.js';

/** Text features [N, D] of the captions, unnormalised, padded as transformers pads. */
function textFeatures(model: DualEncoder | TowerEncoder, loaded: Awaited<ReturnType<typeof loadPretrained>>): number[][] {
  const tokenizer = loaded.tokenizer;
  if (!tokenizer) throw new Error('no tokenizer');
  const t = tokenizeTexts(tokenizer, expected.captions, 64);
  return tf.tidy(() => {
    const ids = tf.tensor2d(t.ids, [t.count, t.length], 'int32');
    const mask = tf.tensor2d(t.mask, [t.count, t.length], 'int32');
    return model.encodeText(ids, mask, { normalize: false }).arraySync();
  });
}

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

describe.each(['clip', 'clip-eos'])('CLIPModel folder %s against transformers', (name) => {
  const want = expected.models[name] as Record<string, number[][]>;
  let loaded: Awaited<ReturnType<typeof loadPretrained>>;
  beforeAll(async () => {
    loaded = await loadPretrained(path.join(FIXTURES, name));
  });

  it('tokenizes the captions to the same ids', () => {
    const tokenizer = loaded.tokenizer;
    expect(expected.captions.map((c) => tokenizer?.encode(c).ids)).toEqual(want.input_ids);
  });

  it('preprocesses the images to the same pixel values', async () => {
    const pixels = await fixturePixels(loaded.processor as NonNullable<typeof loaded.processor>);
    expect(pixels.shape).toEqual(expected.pixel_values.shape);
    const got = pixels.dataSync();
    let m = 0;
    expected.pixel_values.data.forEach((v, i) => {
      m = Math.max(m, Math.abs(v - (got[i] as number)));
    });
    pixels.dispose();
    expect(m).toBeLessThan(1e-5);
  });

  it('gives the same text and image features and logits within 1e-4', async () => {
    const model = loaded.model as DualEncoder;
    const pixels = await fixturePixels(loaded.processor as NonNullable<typeof loaded.processor>);
    const image = tf.tidy(() => model.encodeImage(pixels, { normalize: false }).arraySync());
    const text = textFeatures(model, loaded);
    expect(maxDiff(text, want.text_features as number[][])).toBeLessThan(1e-4);
    expect(maxDiff(image, want.image_features as number[][])).toBeLessThan(1e-4);
    const logits = tf.tidy(() => {
      const scale = Math.exp(model.logit_scale.dataSync()[0] as number);
      const i = tf.tensor2d(image);
      const t = tf.tensor2d(text);
      const n = (x: tf.Tensor2D) => tf.div(x, tf.norm(x, 2, 1, true));
      return tf.mul(tf.matMul(n(i), n(t), false, true), scale).arraySync() as number[][];
    });
    expect(maxDiff(logits, want.logits_per_image as number[][])).toBeLessThan(1e-4);
    pixels.dispose();
  });

  it('embedImages / embedTexts give the unit-length features', async () => {
    const processor = loaded.processor as NonNullable<typeof loaded.processor>;
    const images = await Promise.all(expected.images.map((f) => processor.decode(path.join(FIXTURES, f))));
    const model = loaded.model as DualEncoder;
    const e = embedImages(model, processor, images);
    const t = embedTexts(model, loaded.tokenizer as NonNullable<typeof loaded.tokenizer>, expected.captions, 16);
    const unit = (rows: number[][]) => rows.map((r) => r.map((v) => v / Math.hypot(...r)));
    expect(maxDiff(e.arraySync(), unit(want.image_features as number[][]))).toBeLessThan(1e-4);
    expect(maxDiff(t.arraySync(), unit(want.text_features as number[][]))).toBeLessThan(1e-4);
    tf.dispose([e, t]);
  });
});

describe('the legacy eos_token_id 2 and a real EOS id', () => {
  it('pools by argmax of the ids in one folder and at the first EOS in the other', async () => {
    const legacy = await loadPretrained(path.join(FIXTURES, 'clip'));
    const eos = await loadPretrained(path.join(FIXTURES, 'clip-eos'));
    expect(legacy.config.type === 'clip' && legacy.config.text.pooling).toBe('argmax');
    expect(eos.config.type === 'clip' && [eos.config.text.pooling, eos.config.text.eosTokenId]).toEqual(['eos', 1]);
  });
});

describe('single towers', () => {
  it('CLIPVisionModelWithProjection (float16 weights): image_embeds within 1e-4', async () => {
    const loaded = await loadPretrained(path.join(FIXTURES, 'clip-vision'));
    expect(loaded.tokenizer).toBeNull();
    expect(loaded.config).toMatchObject({ type: 'vision_tower', visionProjection: 'linear', embedDim: 24 });
    const model = loaded.model as TowerEncoder;
    const pixels = await fixturePixels(loaded.processor as NonNullable<typeof loaded.processor>);
    const got = tf.tidy(() => model.encodeImage(pixels, { normalize: false }).arraySync());
    expect(maxDiff(got, expected.models['clip-vision']?.image_embeds as number[][])).toBeLessThan(1e-4);
    expect(() => model.encodeText(tf.zeros([1, 2], 'int32'))).toThrow(/vision tower only/);
    pixels.dispose();
  });

  it('CLIPTextModel (no projection): pooler_output within 1e-4, through loadModel too', async () => {
    const loaded = await loadModel(path.join(FIXTURES, 'clip-text'));
    expect(loaded.config).toMatchObject({ type: 'text_tower', textProjection: 'none' });
    const want = expected.models['clip-text'] as Record<string, number[][]>;
    expect(expected.captions.map((c) => loaded.tokenizer?.encode(c).ids)).toEqual(want.input_ids);
    const got = textFeatures(loaded.model as TowerEncoder, loaded as Awaited<ReturnType<typeof loadPretrained>>);
    expect(maxDiff(got, want.pooler_output as number[][])).toBeLessThan(1e-4);
  });
});

describe('a CLIP folder with vocab.json + merges.txt instead of tokenizer.json', () => {
  it("builds OpenAI CLIP's pipeline (</w> word ends, lower case, start/end tokens) to transformers' ids", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tessera-clip-bpe-'));
    const json = JSON.parse(await readFile(path.join(FIXTURES, 'clip/tokenizer.json'), 'utf8'));
    await writeFile(path.join(dir, 'vocab.json'), JSON.stringify(json.model.vocab));
    const merges = (json.model.merges as Array<[string, string]>).map((m) => m.join(' '));
    await writeFile(path.join(dir, 'merges.txt'), `#version: 0.2\n${merges.join('\n')}\n`);
    await copyFile(path.join(FIXTURES, 'clip/tokenizer_config.json'), path.join(dir, 'tokenizer_config.json'));
    const tokenizer = await loadHfTokenizer(dir);
    const mixed = expected.captions.map((c) => c.toUpperCase().replace(/ /g, '  \t'));
    const ids = expected.models.clip?.input_ids as unknown as number[][];
    expect([...expected.captions, ...mixed].map((c) => tokenizer.encode(c).ids)).toEqual([...ids, ...ids]);
    await rm(dir, { recursive: true, force: true });
  });
});
