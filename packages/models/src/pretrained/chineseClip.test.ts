import { copyFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { initBackend, loadSafetensors, serializeSafetensors, tf } from '@tessera/core';
import type { ImageProcessor } from '@tessera/patches';
import type { Tokenizer } from '@tessera/tokenizer';
import type { Linear } from '@tessera/transformer';
import { beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, fixturePixels, maxDiff } from '../../test/pretrained.js';
import { type ClipConfig, parseModelConfig } from '../config.js';
import type { DualEncoder } from '../dualEncoder.js';
import { embedImages } from '../embedImages.js';
import { embedTexts } from '../embedTexts.js';
import { loadModel, saveModel } from '../modelDirectory.js';
import { createModel } from '../registry.js';
import { tokenizeTexts } from '../textBatch.js';
import type { TowerEncoder } from '../towerEncoder.js';
import { bert } from './bert.js';
import { chineseClip } from './chineseClip.js';
import { exportHf } from './exportHf.js';
import { type LoadedPretrained, loadPretrained } from './loadPretrained.js';

interface Expected {
  captions: string[];
  pair: [string, string];
  images: string[];
  pixel_values: { shape: number[]; data: number[] };
  models: Record<string, Record<string, number[][]> & { pair_input_ids: number[]; pair_token_type_ids: number[] }>;
}
const expected = JSON.parse(await readFile(path.join(FIXTURES, 'expected-chinese-clip.json'), 'utf8')) as Expected;

const unit = (rows: number[][]) => rows.map((r) => r.map((v) => v / Math.hypot(...r)));
const pixels = (processor: ImageProcessor) => fixturePixels(processor, expected.images);

/** Unnormalised text features of the captions, padded as transformers pads them. */
function textFeatures(model: DualEncoder | TowerEncoder, tokenizer: Tokenizer): number[][] {
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

describe('ChineseCLIPModel folder against transformers', () => {
  const want = expected.models['chinese-clip'] as Expected['models'][string];
  let loaded: LoadedPretrained;
  beforeAll(async () => {
    loaded = await loadPretrained(path.join(FIXTURES, 'chinese-clip'));
  });

  it('maps config.json to a post-LN BERT text tower and a CLIP vision tower', () => {
    expect(loaded.config).toMatchObject({
      type: 'clip',
      embedDim: 24,
      text: { norm: 'post', typeVocabSize: 2, layerNormEps: 1e-12, pooling: 'cls', causal: false, activation: 'gelu', padTokenId: 0 },
      vision: { preNorm: true, patchBias: false, activation: 'quick_gelu', pooling: 'cls' },
    });
  });

  it('tokenizes Chinese, English and mixed captions and a sentence pair to the same ids and token types', () => {
    const tokenizer = loaded.tokenizer as Tokenizer;
    const encodings = expected.captions.map((c) => tokenizer.encode(c));
    expect(encodings.map((e) => e.ids)).toEqual(want.input_ids);
    expect(encodings.map((e) => e.typeIds)).toEqual(want.token_type_ids);
    const t = tokenizeTexts(tokenizer, expected.captions, 64);
    expect(Array.from(t.ids)).toEqual((want.padded_input_ids as number[][]).flat());
    expect(Array.from(t.mask)).toEqual((want.attention_mask as number[][]).flat());
    const pair = tokenizer.encode(expected.pair[0], expected.pair[1]);
    expect(pair.ids).toEqual(want.pair_input_ids);
    expect(pair.typeIds).toEqual(want.pair_token_type_ids);
  });

  it('resizes to height x width without a crop (ChineseCLIPImageProcessor) to the same pixel values', async () => {
    const got = await pixels(loaded.processor as ImageProcessor);
    expect(got.shape).toEqual(expected.pixel_values.shape);
    const data = got.dataSync();
    let m = 0;
    expected.pixel_values.data.forEach((v, i) => {
      m = Math.max(m, Math.abs(v - (data[i] as number)));
    });
    got.dispose();
    expect(m).toBeLessThan(1e-5);
  });

  it('gives the same text and image features and logits_per_image within 1e-4', async () => {
    const model = loaded.model as DualEncoder;
    const px = await pixels(loaded.processor as ImageProcessor);
    const image = tf.tidy(() => model.encodeImage(px, { normalize: false }).arraySync());
    px.dispose();
    const text = textFeatures(model, loaded.tokenizer as Tokenizer);
    expect(maxDiff(text, want.text_features)).toBeLessThan(1e-4);
    expect(maxDiff(image, want.image_features)).toBeLessThan(1e-4);
    const logits = tf.tidy(() => {
      const sims = tf.matMul(tf.tensor2d(unit(image)), tf.tensor2d(unit(text)), false, true);
      return tf.mul(sims, model.temperatureScale()).arraySync() as number[][];
    });
    expect(maxDiff(logits, want.logits_per_image)).toBeLessThan(1e-4);
  });

  it('token_type_ids of a sentence pair reach the text tower: the same features as transformers', () => {
    const model = loaded.model as DualEncoder;
    const n = want.pair_input_ids.length;
    const got = tf.tidy(() => {
      const ids = tf.tensor2d(want.pair_input_ids, [1, n], 'int32');
      const types = tf.tensor2d(want.pair_token_type_ids, [1, n], 'int32');
      return (model.text_projection as Linear).forward(model.text_model.forward(ids, undefined, types).pooled).arraySync() as number[][];
    });
    expect(maxDiff(got, want.pair_text_features)).toBeLessThan(1e-4);
  });

  it('embedImages / embedTexts give the unit-length features, through loadModel too', async () => {
    const viaModel = await loadModel(path.join(FIXTURES, 'chinese-clip'));
    const processor = viaModel.processor as ImageProcessor;
    const images = await Promise.all(expected.images.map((f) => processor.decode(path.join(FIXTURES, f))));
    const e = embedImages(viaModel.model as DualEncoder, processor, images);
    const t = embedTexts(viaModel.model as DualEncoder, viaModel.tokenizer as Tokenizer, expected.captions, 24);
    expect(maxDiff(e.arraySync(), unit(want.image_features))).toBeLessThan(1e-4);
    expect(maxDiff(t.arraySync(), unit(want.text_features))).toBeLessThan(1e-4);
    tf.dispose([e, t]);
    viaModel.model.dispose();
  });

  it('saves as a Tessera model directory that reloads to the same features, and fine-tunes (dropout on, loss falls)', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tessera-cnclip-dir-'));
    await saveModel(dir, {
      model: loaded.model,
      config: loaded.config,
      tokenizer: loaded.tokenizer ?? undefined,
      processor: loaded.processor ?? undefined,
    });
    const again = await loadModel(dir);
    expect(again.config).toEqual(loaded.config);
    expect(maxDiff(textFeatures(again.model as DualEncoder, again.tokenizer as Tokenizer), want.text_features)).toBeLessThan(1e-4);
    const model = again.model as DualEncoder;
    model.train();
    const px = await pixels(again.processor as ImageProcessor);
    const t = tokenizeTexts(again.tokenizer as Tokenizer, expected.captions.slice(0, 2), 24);
    const ids = tf.tensor2d(t.ids, [t.count, t.length], 'int32');
    const mask = tf.tensor2d(t.mask, [t.count, t.length], 'int32');
    const optimizer = tf.train.adam(1e-3);
    const losses: number[] = [];
    for (let step = 0; step < 6; step++) {
      const cost = optimizer.minimize(() => model.forward({ images: px, ids, mask }).loss, true, model.trainableVariables()) as tf.Scalar;
      losses.push(cost.dataSync()[0] as number);
      cost.dispose();
    }
    expect(losses[losses.length - 1]).toBeLessThan(losses[0] as number);
    tf.dispose([px, ids, mask]);
    optimizer.dispose();
    model.dispose();
  });

  it('a checkpoint that also carries a BERT pooler and position_ids buffers loads the same (transformers drops them too)', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tessera-cnclip-pooler-'));
    const source = await loadSafetensors(path.join(FIXTURES, 'chinese-clip', 'model.safetensors'));
    const tensors = new Map(source.tensors);
    tensors.set('text_model.pooler.dense.weight', { dtype: 'F32', shape: [32, 32], data: new Float32Array(32 * 32) });
    tensors.set('text_model.pooler.dense.bias', { dtype: 'F32', shape: [32], data: new Float32Array(32) });
    tensors.set('text_model.embeddings.position_ids', { dtype: 'I64', shape: [1, 24], data: new BigInt64Array(24) });
    await writeFile(path.join(dir, 'model.safetensors'), serializeSafetensors(tensors, { format: 'pt' }));
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'preprocessor_config.json'])
      await copyFile(path.join(FIXTURES, 'chinese-clip', f), path.join(dir, f));
    const again = await loadPretrained(dir);
    expect(maxDiff(textFeatures(again.model as DualEncoder, again.tokenizer as Tokenizer), want.text_features)).toBeLessThan(1e-4);
    again.model.dispose();
  });

  it('exports a folder that Tessera reads back to the same features', async () => {
    const out = await mkdtemp(path.join(tmpdir(), 'tessera-cnclip-export-'));
    await exportHf(loaded, out);
    const hf = JSON.parse(await readFile(path.join(out, 'config.json'), 'utf8'));
    expect(hf).toMatchObject({
      model_type: 'chinese_clip',
      architectures: ['ChineseCLIPModel'],
      projection_dim: 24,
      text_config: { model_type: 'chinese_clip_text_model', type_vocab_size: 2, layer_norm_eps: 1e-12, hidden_act: 'gelu' },
      vision_config: { model_type: 'chinese_clip_vision_model', hidden_act: 'quick_gelu', projection_dim: 24 },
    });
    const again = await loadPretrained(out);
    expect(again.config).toEqual(loaded.config);
    const text = textFeatures(again.model as DualEncoder, again.tokenizer as Tokenizer);
    expect(maxDiff(text, want.text_features)).toBeLessThan(1e-4);
    const px = await pixels(again.processor as ImageProcessor);
    const image = tf.tidy(() => (again.model as DualEncoder).encodeImage(px, { normalize: false }).arraySync());
    px.dispose();
    expect(maxDiff(image, want.image_features)).toBeLessThan(1e-4);
    again.model.dispose();
  });
});

describe('BertModel folder with vocab.txt only', () => {
  const want = expected.models.bert as Expected['models'][string];
  let loaded: LoadedPretrained;
  beforeAll(async () => {
    loaded = await loadPretrained(path.join(FIXTURES, 'bert'));
  });

  it('is a text tower without projection, its tokenizer read from vocab.txt', () => {
    expect(loaded.config).toMatchObject({ type: 'text_tower', textProjection: 'none', text: { norm: 'post', typeVocabSize: 2 } });
    expect(loaded.processor).toBeNull();
    const tokenizer = loaded.tokenizer as Tokenizer;
    expect(expected.captions.map((c) => tokenizer.encode(c).ids)).toEqual(want.input_ids);
    expect(tokenizer.encode(expected.pair[0], expected.pair[1]).typeIds).toEqual(want.pair_token_type_ids);
  });

  it('embeds the [CLS] state of the last layer (the pooler is ignored) within 1e-4', () => {
    const model = loaded.model as TowerEncoder;
    expect([...model.namedParameters().keys()].some((n) => n.includes('pooler'))).toBe(false);
    const got = textFeatures(model, loaded.tokenizer as Tokenizer);
    expect(maxDiff(got, want.cls_hidden)).toBeLessThan(1e-4);
    // The pooler's tanh(dense(CLS)) is another vector: not what Tessera embeds.
    expect(maxDiff(got, want.pooler_output)).toBeGreaterThan(1e-2);
    const t = embedTexts(model, loaded.tokenizer as Tokenizer, expected.captions, 24);
    expect(maxDiff(t.arraySync(), unit(want.cls_hidden))).toBeLessThan(1e-4);
    t.dispose();
  });

  it('reads a BertFor* checkpoint layout (encoder under bert., heads under cls.) to the same embeddings', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tessera-bert-mlm-'));
    const source = await loadSafetensors(path.join(FIXTURES, 'bert', 'model.safetensors'));
    const tensors = new Map([...source.tensors].map(([name, t]) => [`bert.${name}`, t]));
    tensors.set('cls.predictions.bias', { dtype: 'F32', shape: [51], data: new Float32Array(51) });
    await writeFile(path.join(dir, 'model.safetensors'), serializeSafetensors(tensors, { format: 'pt' }));
    for (const f of ['config.json', 'vocab.txt', 'tokenizer_config.json'])
      await copyFile(path.join(FIXTURES, 'bert', f), path.join(dir, f));
    const mlm = await loadPretrained(dir);
    expect(maxDiff(textFeatures(mlm.model as TowerEncoder, mlm.tokenizer as Tokenizer), want.cls_hidden)).toBeLessThan(1e-4);
    mlm.model.dispose();
  });

  it('exports as a BertModel that Tessera reads back', async () => {
    const out = await mkdtemp(path.join(tmpdir(), 'tessera-bert-export-'));
    await exportHf(loaded, out);
    expect(JSON.parse(await readFile(path.join(out, 'config.json'), 'utf8'))).toMatchObject({
      model_type: 'bert',
      architectures: ['BertModel'],
    });
    const again = await loadPretrained(out);
    expect(maxDiff(textFeatures(again.model as TowerEncoder, again.tokenizer as Tokenizer), want.cls_hidden)).toBeLessThan(1e-4);
    again.model.dispose();
  });
});

describe('BERT and Chinese-CLIP configs: what Tessera cannot build or export', () => {
  const file = '/models/x/config.json';

  it('an unsupported switch is E_PRETRAINED_CONFIG naming the key', () => {
    const fail = (hf: Record<string, unknown>, field: string) => {
      expect(() => bert.fromHfConfig({ model_type: 'bert', ...hf }, file)).toThrow(
        expect.objectContaining({ code: 'E_PRETRAINED_CONFIG', details: expect.objectContaining({ path: file, field }) }),
      );
    };
    fail({ position_embedding_type: 'relative_key' }, 'position_embedding_type');
    fail({ hidden_act: 'silu' }, 'hidden_act');
    fail({ is_decoder: true }, 'is_decoder');
    fail({ add_cross_attention: true }, 'add_cross_attention');
    expect(() =>
      chineseClip.fromHfConfig({ model_type: 'chinese_clip', text_config: { position_embedding_type: 'relative_key_query' } }, file),
    ).toThrow(expect.objectContaining({ details: expect.objectContaining({ field: 'text_config.position_embedding_type' }) }));
  });

  it('transformers defaults give bert-base / chinese-clip-vit-base sizes', () => {
    const c = chineseClip.fromHfConfig({ model_type: 'chinese_clip' }, file);
    expect(c).toMatchObject({
      embedDim: 512,
      text: { vocabSize: 30522, dim: 768, numLayers: 12, maxPositions: 512, typeVocabSize: 2, dropout: 0.1 },
      vision: { imageSize: 224, patchSize: 32, dim: 768 },
    });
  });

  it('a Tessera architecture Chinese-CLIP cannot express is E_EXPORT naming the setting', () => {
    const base = parseModelConfig({
      type: 'clip',
      embedDim: 8,
      vision: { imageSize: 8, patchSize: 4, dim: 16, numHeads: 2, numLayers: 1, preNorm: true, patchBias: false },
      text: { vocabSize: 20, maxPositions: 8, dim: 16, numHeads: 2, numLayers: 1, norm: 'post', typeVocabSize: 2 },
    }) as ClipConfig;
    expect(chineseClip.exportsConfig(base)).toBe(true);
    const refuse = (patch: Record<string, unknown>, setting: string) => {
      const config = parseModelConfig({ ...base, ...patch, text: { ...base.text, ...(patch.text as object) } });
      expect(() => chineseClip.toHfConfig(config)).toThrow(
        expect.objectContaining({ code: 'E_EXPORT', details: expect.objectContaining({ setting }) }),
      );
    };
    refuse({ text: { pooling: 'mean' } }, 'text.pooling');
    refuse({ text: { typeVocabSize: 0 } }, 'text.typeVocabSize');
    refuse({ text: { causal: true } }, 'text.causal');
    refuse({ textProjection: 'linear_bias' }, 'textProjection');
    refuse({ vision: { ...base.vision, patchBias: true } }, 'vision.patchBias');
  });

  it('a post-LN Tessera model built from scratch exports and reloads with the same embeddings', async () => {
    const { model, config } = createModel({
      type: 'clip',
      embedDim: 8,
      vision: { imageSize: 8, patchSize: 4, dim: 16, numHeads: 2, numLayers: 1, preNorm: true, patchBias: false },
      text: { vocabSize: 51, maxPositions: 8, dim: 16, numHeads: 2, numLayers: 1, norm: 'post', typeVocabSize: 2 },
      seed: 5,
    });
    const tokenizer = (await loadPretrained(path.join(FIXTURES, 'bert'))).tokenizer as Tokenizer;
    const out = await mkdtemp(path.join(tmpdir(), 'tessera-cnclip-scratch-'));
    await exportHf({ model, config, tokenizer }, out);
    const again = await loadPretrained(out);
    const a = embedTexts(model as DualEncoder, tokenizer, expected.captions, 8);
    const b = embedTexts(again.model as DualEncoder, again.tokenizer as Tokenizer, expected.captions, 8);
    expect(maxDiff(b.arraySync(), a.arraySync())).toBeLessThan(1e-6);
    tf.dispose([a, b]);
    model.dispose();
    again.model.dispose();
  });
});
