import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend, loadSafetensors, type SafetensorsTensor, tf } from '@tessera/core';
import { ImageProcessor } from '@tessera/patches';
import { Tokenizer } from '@tessera/tokenizer';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DualEncoder } from '../dualEncoder.js';
import { createModel } from '../registry.js';
import { tokenizeTexts } from '../textBatch.js';
import { loadPretrained } from './loadPretrained.js';
import { siglip } from './siglip.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../test/fixtures/pretrained');
const DIR = path.join(FIXTURES, 'siglip');
/** Written by make_siglip.py from transformers 5.18 itself. */
const expected = JSON.parse(readFileSync(path.join(FIXTURES, 'siglip_expected.json'), 'utf8'));
const hfConfig = JSON.parse(readFileSync(path.join(DIR, 'config.json'), 'utf8'));

/** tokenizer.json with tokenizer_config.json's pad token (hfTokenizer's job once merged). */
function siglipTokenizer(): Tokenizer {
  const tokenizer = Tokenizer.fromFile(path.join(DIR, 'tokenizer.json'));
  const { pad_token } = JSON.parse(readFileSync(path.join(DIR, 'tokenizer_config.json'), 'utf8'));
  tokenizer.setSpecialToken('pad', pad_token);
  return tokenizer;
}

function expectClose(actual: tf.Tensor, want: number[][] | number[], what: string, tol = 1e-4): void {
  const flat = (want as number[]).flat() as number[];
  const got = actual.dataSync();
  expect(got.length, `${what} size`).toBe(flat.length);
  let worst = 0;
  for (let i = 0; i < flat.length; i++)
    worst = Math.max(worst, Math.abs((got[i] as number) - (flat[i] as number)) - tol * Math.abs(flat[i] as number));
  expect(worst, `${what}: worst excess over ${tol}`).toBeLessThanOrEqual(tol);
}

/** The folder's tensors under Tessera names, in Tessera's shapes (size-1 axes aside). */
async function stateDict(model: DualEncoder): Promise<Map<string, SafetensorsTensor>> {
  const file = await loadSafetensors(path.join(DIR, 'model.safetensors'));
  const params = model.namedParameters();
  const state = new Map<string, SafetensorsTensor>();
  for (const [hfName, tensor] of file.tensors) {
    const name = siglip.fromHfName(hfName);
    const param = params.get(name);
    expect(param, `${hfName} -> ${name} is a parameter`).toBeDefined();
    expect(siglip.hfShape?.(hfName, param?.variable.shape ?? []), hfName).toEqual(tensor.shape);
    state.set(name, { ...tensor, shape: param?.variable.shape ?? tensor.shape });
  }
  return state;
}

describe('SigLIP from a transformers folder', () => {
  let model: DualEncoder;
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
    const built = createModel(siglip.fromHfConfig(hfConfig, 'siglip/config.json'));
    model = built.model as DualEncoder;
    model.loadStateDict(await stateDict(model));
  });

  it('reads config.json into a sigmoid dual encoder with the attention head and no vision projection', () => {
    const config = siglip.fromHfConfig(hfConfig, 'siglip/config.json');
    expect(config).toMatchObject({
      type: 'clip',
      embedDim: 32,
      scoring: 'sigmoid',
      visionProjection: 'none',
      textProjection: 'linear_bias',
      vision: { classToken: false, pooling: 'attention', activation: 'gelu_tanh', layerNormEps: 1e-6, patchBias: true },
      text: { causal: false, pooling: 'last', padToMax: true, padTokenId: 1, maxPositions: 64, activation: 'gelu_tanh' },
    });
    expect(model.visual_projection).toBeNull();
    expect(model.namedParameters().has('logit_bias')).toBe(true);
  });

  it('names map both ways, every parameter to a tensor of the folder', () => {
    for (const name of model.namedParameters().keys()) expect(siglip.fromHfName(siglip.toHfName(name))).toBe(name);
    expect(siglip.toHfName('text_projection.bias')).toBe('text_model.head.bias');
    expect(siglip.toHfName('vision_model.head.attention.in_proj_weight')).toBe('vision_model.head.attention.in_proj_weight');
    expect(siglip.toHfName('vision_model.encoder.layers.1.final_layer_norm.weight')).toBe(
      'vision_model.encoder.layers.1.layer_norm2.weight',
    );
  });

  it("Tessera's Unigram/Metaspace pipeline gives transformers' ids, padded to 64 with </s>", () => {
    const tokenizer = siglipTokenizer();
    const t = tokenizeTexts(tokenizer, expected.captions, 64, { padToMax: true });
    expect(Array.from(t.ids)).toEqual((expected.input_ids as number[][]).flat());
  });

  it("text features, image features, logits_per_image and sigmoid scores match transformers' within 1e-4", async () => {
    const tokenizer = siglipTokenizer();
    const processorConfig = JSON.parse(readFileSync(path.join(DIR, 'preprocessor_config.json'), 'utf8'));
    // SiglipImageProcessor resizes to height x width and never crops.
    const processor = ImageProcessor.fromConfig({ ...processorConfig, do_center_crop: false });
    const pixels = await processor.process((expected.images as string[]).map((f) => path.join(FIXTURES, f)));
    expect(pixels.shape).toEqual(expected.pixel_values.shape);
    expectClose(pixels, expected.pixel_values.data, 'pixel_values', 1e-6);
    // Ids padded only to the longest caption: padToMax pads to 64 itself and ignores the mask.
    const t = tokenizeTexts(tokenizer, expected.captions, 64);
    tf.tidy(() => {
      const ids = tf.tensor2d(t.ids, [t.count, t.length], 'int32');
      const mask = tf.tensor2d(t.mask, [t.count, t.length], 'int32');
      expectClose(model.encodeText(ids, mask, { normalize: false }), expected.text_features, 'text features');
      expectClose(model.encodeImage(pixels, { normalize: false }), expected.image_features, 'image features');
      const { logitsPerImage, scores } = model.logits(pixels, ids, mask);
      expectClose(logitsPerImage, expected.logits_per_image, 'logits_per_image');
      expectClose(scores, expected.probs_per_image, 'sigmoid scores');
    });
    pixels.dispose();
  });

  it('exports a config that reads back to the same Tessera config', () => {
    const config = siglip.fromHfConfig(hfConfig, 'siglip/config.json');
    expect(siglip.exportsConfig(config)).toBe(true);
    expect(siglip.fromHfConfig(siglip.toHfConfig(config), 'exported/config.json')).toEqual(config);
  });

  it('refuses what SigLIP cannot express, and HF switches Tessera cannot honour, naming the field', () => {
    const config = siglip.fromHfConfig(hfConfig, 'siglip/config.json');
    if (config.type !== 'clip') throw new Error('a SigLIP folder reads as a clip config');
    expect(() => siglip.toHfConfig({ ...config, scoring: 'softmax' })).toThrow(/scoring/);
    expect(() => siglip.toHfConfig({ ...config, text: { ...config.text, pooling: 'mean' } })).toThrow(/text.pooling/);
    const noHead = { ...hfConfig, vision_config: { ...hfConfig.vision_config, vision_use_head: false } };
    expect(() => siglip.fromHfConfig(noHead, 'x/config.json')).toThrow(expect.objectContaining({ code: 'E_PRETRAINED_CONFIG' }));
    const act = { ...hfConfig, text_config: { ...hfConfig.text_config, hidden_act: 'swish' } };
    expect(() => siglip.fromHfConfig(act, 'x/config.json')).toThrow(/text_config.hidden_act/);
  });

  it('trains with the sigmoid loss: the step lowers the loss', () => {
    // One SGD step on a batch of two images and their captions.
    const tokenizer = siglipTokenizer();
    const t = tokenizeTexts(tokenizer, expected.captions.slice(0, 2), 64);
    const images = tf.tensor4d(expected.pixel_values.data, expected.pixel_values.shape);
    const ids = tf.tensor2d(t.ids, [t.count, t.length], 'int32');
    const params = [...model.namedParameters().values()].filter((p) => p.trainable).map((p) => p.variable);
    const before = params.map((p) => p.clone());
    const loss = () => model.forward({ images, ids }).loss;
    const first = tf.tidy(() => loss().dataSync()[0] as number);
    const { grads } = tf.variableGrads(loss as () => tf.Scalar, params);
    for (const p of params) p.assign(tf.sub(p, tf.mul(grads[p.name] as tf.Tensor, 0.002)));
    const second = tf.tidy(() => loss().dataSync()[0] as number);
    expect(second).toBeLessThan(first);
    for (const [i, p] of params.entries()) p.assign(before[i] as tf.Tensor);
    tf.dispose([images, ids, ...before, ...Object.values(grads)]);
  });

  it('loadPretrained reads the folder (weights, tokenizer_config pad token, SiglipImageProcessor without crop) to the same numbers', async () => {
    const loaded = await loadPretrained(DIR);
    const m = loaded.model as DualEncoder;
    const pixels = await (loaded.processor as ImageProcessor).process((expected.images as string[]).map((f) => path.join(FIXTURES, f)));
    expectClose(pixels, expected.pixel_values.data, 'pixel_values', 1e-6);
    const t = tokenizeTexts(loaded.tokenizer as Tokenizer, expected.captions, 64, { padToMax: true });
    expect(Array.from(t.ids)).toEqual((expected.input_ids as number[][]).flat());
    tf.tidy(() => {
      const ids = tf.tensor2d(t.ids, [t.count, t.length], 'int32');
      expectClose(m.logits(pixels, ids).logitsPerImage, expected.logits_per_image, 'logits_per_image');
    });
    pixels.dispose();
    m.dispose();
  });
});
