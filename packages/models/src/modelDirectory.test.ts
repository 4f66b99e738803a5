import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { initBackend, isTesseraError, loadSafetensors, type SafetensorsTensor, tf, toFloat32 } from '@tessera/core';
import { ImageProcessor } from '@tessera/patches';
import { trainWordPieceTokenizer } from '@tessera/tokenizer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TINY_CLIP, tinyBatch } from '../test/tiny.js';
import { Captioner } from './captioner.js';
import { CaptionVocab } from './captionVocab.js';
import type { DualEncoder } from './dualEncoder.js';
import { loadCaptioner, loadModel, loadTesseraCaptioner, saveCaptioner, saveModel } from './modelDirectory.js';
import { createModel } from './registry.js';

let dir: string;
beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  dir = await mkdtemp(path.join(tmpdir(), 'tessera-models-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('model directories', () => {
  it('round-trips weights, config, tokenizer and preprocessor, giving identical outputs', async () => {
    const tokenizer = trainWordPieceTokenizer(['a red apple', 'un chat', '红色的苹果']);
    const { model, config } = createModel(TINY_CLIP, { vocabSize: tokenizer.vocabSize });
    const processor = new ImageProcessor({ size: { shortest_edge: 8 }, crop_size: { height: 8, width: 8 } });
    const out = path.join(dir, 'clip');
    await saveModel(out, { model, config, tokenizer, processor });
    const loaded = await loadModel(out);
    expect(loaded.config).toEqual(config);
    expect(loaded.tokenizer?.encode('红色 apple').ids).toEqual(tokenizer.encode('红色 apple').ids);
    expect(loaded.processor?.config).toEqual(processor.config);
    const a = model.namedParameters();
    for (const [name, p] of loaded.model.namedParameters()) {
      expect(Array.from(p.variable.dataSync())).toEqual(Array.from(a.get(name)?.variable.dataSync() ?? []));
    }
    const b = tinyBatch(3, 8, 4, tokenizer.vocabSize);
    const e1 = (model as DualEncoder).encodeImage(b.images);
    const e2 = (loaded.model as DualEncoder).encodeImage(b.images);
    expect(Array.from(e2.dataSync())).toEqual(Array.from(e1.dataSync()));
    tf.dispose([e1, e2, b.images, b.ids, b.mask]);
    model.dispose();
    loaded.model.dispose();
  });

  it('says what is missing', async () => {
    await expect(loadModel(path.join(dir, 'nowhere'))).rejects.toThrow(/config\.json/);
    const half = path.join(dir, 'half');
    const { model, config } = createModel(TINY_CLIP);
    await saveModel(half, { model, config });
    await rm(path.join(half, 'model.safetensors'));
    await expect(loadModel(half)).rejects.toThrow(/model\.safetensors is missing/);
    await writeFile(path.join(half, 'config.json'), JSON.stringify({ ...config, embedDim: -1 }));
    try {
      await loadModel(half);
      expect.unreachable();
    } catch (error) {
      expect(isTesseraError(error, 'E_CONFIG')).toBe(true);
      expect((error as Error).message).toContain('embedDim');
    }
    model.dispose();
  });
});

/** A captioner directory written by saveCaptioner before it moved from apps/video-captioning (test/fixtures/README.md). */
const CAPTIONER_V1 = path.join(import.meta.dirname, '../test/fixtures/captioner-v1');
const TINY_CAPTIONER = {
  numFrames: 2,
  imageSize: 8,
  patchSize: 4,
  visionDim: 8,
  visionLayers: 1,
  visionHeads: 2,
  videoMode: 'joint',
  textDim: 8,
  textLayers: 1,
  textHeads: 2,
  maxLength: 6,
} as const;

describe('captioner directories', () => {
  it('round-trips weights, config and caption vocabulary, giving identical logits', async () => {
    const vocab = CaptionVocab.build(['a dog moves up', '狗向上移动']);
    const model = new Captioner({ ...TINY_CAPTIONER, vocabSize: vocab.size, seed: 4 });
    const out = path.join(dir, 'captioner');
    await saveCaptioner(out, model, vocab);
    const loaded = await loadTesseraCaptioner(out);
    expect(loaded.config).toEqual(model.config);
    expect(loaded.vocab.tokens).toEqual(vocab.tokens);
    const video = tf.randomUniform([2, 2, 3, 8, 8], -1, 1, 'float32', 7);
    const ids = tf.tensor2d(vocab.encode('a dog moves up', 'en', 6).slice(0, 4), [1, 4], 'int32');
    const both = tf.tile(ids, [2, 1]);
    const l1 = model.forward(video, both);
    const l2 = loaded.model.forward(video, both);
    expect(Array.from(l2.dataSync())).toEqual(Array.from(l1.dataSync()));
    tf.dispose([video, ids, both, l1, l2]);
    model.dispose();
    loaded.model.dispose();
  });

  it('loads a directory in the layout written before the captioner moved to @tessera/models, and rewrites it unchanged', async () => {
    const loaded = await loadTesseraCaptioner(CAPTIONER_V1);
    const { type, ...config } = JSON.parse(await readFile(path.join(CAPTIONER_V1, 'config.json'), 'utf8'));
    expect(type).toBe('captioner');
    expect(loaded.config).toEqual(config);
    const vocabJson = JSON.parse(await readFile(path.join(CAPTIONER_V1, 'vocab.json'), 'utf8'));
    expect(loaded.vocab.tokens).toEqual(vocabJson.tokens);
    const saved = (await loadSafetensors(path.join(CAPTIONER_V1, 'model.safetensors'))).tensors;
    const params = loaded.model.namedParameters();
    expect([...params.keys()].sort()).toEqual([...saved.keys()].sort());
    for (const [name, p] of params)
      expect(Array.from(p.variable.dataSync())).toEqual(Array.from(toFloat32(saved.get(name) as SafetensorsTensor)));
    const again = path.join(dir, 'captioner-v1-again');
    await saveCaptioner(again, loaded.model, loaded.vocab);
    for (const file of ['config.json', 'vocab.json']) {
      expect(await readFile(path.join(again, file), 'utf8')).toBe(await readFile(path.join(CAPTIONER_V1, file), 'utf8'));
    }
    loaded.model.dispose();
  });

  it('says what is wrong: another model type, a vocabulary of the wrong size, a missing vocab.json', async () => {
    const clip = path.join(dir, 'clip-not-captioner');
    const { model, config } = createModel(TINY_CLIP);
    await saveModel(clip, { model, config });
    model.dispose();
    await expect(loadCaptioner(clip)).rejects.toMatchObject({ code: 'E_MODEL_FORMAT', message: expect.stringContaining('"clip"') });
    const vocab = CaptionVocab.build(['a dog']);
    const captioner = new Captioner({ ...TINY_CAPTIONER, vocabSize: vocab.size + 1 });
    await expect(saveCaptioner(path.join(dir, 'bad-vocab'), captioner, vocab)).rejects.toMatchObject({ code: 'E_CONFIG' });
    captioner.dispose();
    const noVocab = path.join(dir, 'no-vocab');
    const good = new Captioner({ ...TINY_CAPTIONER, vocabSize: vocab.size });
    await saveCaptioner(noVocab, good, vocab);
    good.dispose();
    await rm(path.join(noVocab, 'vocab.json'));
    await expect(loadCaptioner(noVocab)).rejects.toMatchObject({ code: 'E_IO', message: expect.stringContaining('vocab.json') });
  });
});
