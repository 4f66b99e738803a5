import { readFileSync } from 'node:fs';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromFloat32, initBackend, loadSafetensors, saveSafetensors, tf, toFloat32 } from '@tessera/core';
import { captioningLoss, teacherForcing } from '@tessera/objectives';
import { type DecodedImage, sampleFrameImages } from '@tessera/patches';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlipCaptioner } from '../blipCaptioner.js';
import type { LoadedCaptioner } from '../captionModel.js';
import { loadCaptioner } from '../modelDirectory.js';
import { blipFromHfConfig, blipHfMapping } from './blip.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../test/fixtures/pretrained');
/** Written by make_blip.py from transformers 5.18 itself. */
const expected = JSON.parse(readFileSync(path.join(FIXTURES, 'blip_expected.json'), 'utf8'));
const IMAGES = (expected.images as string[]).map((f) => path.join(FIXTURES, f));
/** OpenCV's tree.avi (2 s), committed for @tessera/patches. */
const TREE = path.join(FIXTURES, '../../../../patches/test/fixtures/tree_2s.avi');
const trimmed = (rows: number[][], sep: number) => rows.map((r) => (r[r.length - 1] === sep ? r.slice(0, -1) : r));

function expectClose(actual: tf.Tensor, want: number[], what: string, tol: number): void {
  const got = actual.dataSync();
  expect(got.length, `${what} size`).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs((got[i] as number) - (want[i] as number)));
  expect(worst, `${what}: largest difference`).toBeLessThanOrEqual(tol);
}

describe.each(['blip', 'blip-untied'])('BLIP captioner from the transformers folder %s', (folder) => {
  const want = expected.models[folder];
  let loaded: LoadedCaptioner;
  let model: BlipCaptioner;
  let pixels: tf.Tensor4D;
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
    loaded = await loadCaptioner(path.join(FIXTURES, folder));
    model = loaded.model as BlipCaptioner;
    pixels = await loaded.processor.process(IMAGES);
  });
  afterAll(() => {
    pixels.dispose();
    model.dispose();
  });

  it("reads config.json: ViT and BERT decoder sizes, [DEC]/[SEP]/[PAD] ids, the head's tying", () => {
    expect(loaded.kind).toBe('blip');
    expect(model).toBeInstanceOf(BlipCaptioner);
    expect(model.config).toMatchObject({
      vision: { imageSize: 32, patchSize: 8, dim: 24, numHeads: 4, numLayers: 2, mlpDim: 48, activation: 'gelu', layerNormEps: 1e-5 },
      text: { vocabSize: 39, maxPositions: 24, dim: 32, numHeads: 4, numLayers: 2, mlpDim: 64, layerNormEps: 1e-12 },
      tieWordEmbeddings: want.tied,
      bosTokenId: want.bos_token_id,
      sepTokenId: want.sep_token_id,
      padTokenId: want.pad_token_id,
    });
    expect(model.numFrames).toBe(1);
    expect(model.imageSize).toBe(32);
    expect(model.text_decoder.lm_head === null).toBe(want.tied);
  });

  it("BlipImageProcessor (resize to height x width, no crop): transformers' pixel values within 1e-5", () => {
    expect(pixels.shape).toEqual(expected.pixel_values.shape);
    expectClose(pixels, expected.pixel_values.data, 'pixel_values', 1e-5);
  });

  it("teacher-forced logits at every position (padded batch with its mask) match transformers' within 1e-4", () => {
    const ids = want.input_ids as number[][];
    const [batch, length] = [ids.length, (ids[0] as number[]).length];
    tf.tidy(() => {
      const idsT = tf.tensor2d(ids.flat(), [batch, length], 'int32');
      const mask = tf.tensor2d((want.attention_mask as number[][]).flat(), [batch, length], 'int32');
      const clips = tf.expandDims(pixels, 1);
      const logits = model.logits(clips, idsT, mask);
      expect(logits.shape).toEqual(want.logits.shape);
      expectClose(logits, want.logits.data, 'logits', 1e-4);
    });
  });

  it("the teacher-forced training loss is transformers' (padding ignored), and one SGD step lowers it", () => {
    const ids = want.input_ids as number[][];
    const [batch, length] = [ids.length, (ids[0] as number[]).length];
    const idsT = tf.tensor2d(ids.flat(), [batch, length], 'int32');
    const mask = tf.tensor2d((want.attention_mask as number[][]).flat(), [batch, length], 'int32');
    const clips = tf.expandDims(pixels, 1);
    const { inputIds, targetIds } = teacherForcing(idsT);
    const inputMask = tf.slice(mask, [0, 0], [batch, length - 1]);
    const loss = () =>
      captioningLoss({ logits: model.logits(clips, inputIds, inputMask), targets: targetIds, padTokenId: want.pad_token_id })
        .loss as tf.Scalar;
    const first = tf.tidy(() => loss().dataSync()[0] as number);
    expect(first).toBeCloseTo(want.loss, 4);
    const params = [...model.namedParameters().values()].filter((p) => p.trainable).map((p) => p.variable);
    const before = params.map((p) => p.clone());
    const { grads } = tf.variableGrads(loss, params);
    for (const p of params) p.assign(tf.sub(p, tf.mul(grads[p.name] as tf.Tensor, 0.01)));
    const second = tf.tidy(() => loss().dataSync()[0] as number);
    expect(second).toBeLessThan(first);
    for (const [i, p] of params.entries()) p.assign(before[i] as tf.Tensor);
    tf.dispose([idsT, mask, clips, inputIds, targetIds, inputMask, ...before, ...Object.values(grads)]);
  });

  it("greedy and beam-3 ids from [DEC] to [SEP] equal transformers' generate exactly, with the KV cache", () => {
    const clips = tf.expandDims(pixels, 1);
    const maxNewTokens = want.max_new_tokens as number;
    expect(model.generate(clips, { maxNewTokens })).toEqual(trimmed(want.greedy_ids, want.sep_token_id));
    expect(model.generate(clips, { maxNewTokens, beams: 3 })).toEqual(trimmed(want.beam3_ids, want.sep_token_id));
    // Without a length: transformers' default of 20 new tokens.
    expect(model.generate(clips)).toEqual(trimmed(want.default_greedy_ids, want.sep_token_id));
    clips.dispose();
  });

  it("the middle frame of a real clip (tree.avi): the frame, its pixels and transformers' greedy / beam-3 ids", async () => {
    const { info, indices, frames } = await sampleFrameImages(TREE, { numFrames: model.numFrames });
    expect(info.numFrames).toBe(expected.tree.num_frames);
    expect(indices).toEqual([expected.tree.frame_index]);
    const [h, w] = loaded.processor.outputSize;
    const data = loaded.processor.toFloat(
      loaded.processor.transform(frames[0] as DecodedImage),
      'channels_first',
      new Float32Array(3 * h * w),
    );
    const clip = tf.tensor(data, [1, 1, 3, h, w]);
    expectClose(clip, expected.tree.pixel_values.data, 'tree frame pixel_values', 1e-5);
    expect(model.generate(clip)).toEqual(trimmed(want.tree.greedy_ids, want.sep_token_id));
    expect(model.generate(clip, { beams: 3 })).toEqual(trimmed(want.tree.beam3_ids, want.sep_token_id));
    clip.dispose();
  });

  it("the checkpoint's tokenizer decodes the captions as transformers does (special tokens skipped)", () => {
    const decode = (rows: number[][]) => rows.map((r) => loaded.text.decode(r));
    expect(decode(want.greedy_ids)).toEqual(want.greedy_text);
    expect(decode(want.beam3_ids)).toEqual(want.beam3_text);
  });

  it('training captions are [DEC] words [SEP], as the ids transformers was given (cut to maxLength, [SEP] kept)', () => {
    const ids = (want.input_ids as number[][]).map((r) => r.filter((id) => id !== want.pad_token_id));
    expect((expected.captions as string[]).map((c) => loaded.text.encode(c, 'en', 24))).toEqual(ids);
    expect(loaded.text.encode(expected.captions[1], 'en', 4)).toEqual([...(ids[1] as number[]).slice(0, 3), want.sep_token_id]);
    expect(() => loaded.text.decodeOptions('zh')).toThrow(expect.objectContaining({ code: 'E_INPUT' }));
  });
});

describe('the captioner loader', () => {
  it('reads a BLIP folder into the one LoadedCaptioner shape the app runs', async () => {
    const captioner = await loadCaptioner(path.join(FIXTURES, 'blip'));
    expect(captioner.kind).toBe('blip');
    const pixels = await captioner.processor.process(IMAGES);
    const clips = tf.expandDims(pixels, 1);
    const ids = captioner.model.generate(clips, { ...captioner.text.decodeOptions(), maxNewTokens: expected.models.blip.max_new_tokens });
    expect(ids.map((r) => captioner.text.decode(r))).toEqual(expected.models.blip.greedy_text);
    tf.dispose([pixels, clips]);
    captioner.model.dispose();
  });

  it('a bfloat16 copy of the folder loads every parameter, the fused qkv blocks included, widened exactly', async () => {
    const dir = path.join(FIXTURES, 'blip');
    const tmp = await mkdtemp(path.join(tmpdir(), 'blip-bf16-'));
    try {
      for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'preprocessor_config.json'])
        await copyFile(path.join(dir, f), path.join(tmp, f));
      const file = await loadSafetensors(path.join(dir, 'model.safetensors'));
      const bf16 = new Map(
        [...file.tensors].map(([name, t]) => [name, { dtype: 'BF16' as const, shape: t.shape, data: fromFloat32(toFloat32(t), 'BF16') }]),
      );
      await saveSafetensors(path.join(tmp, 'model.safetensors'), bf16);
      const [full, half] = [await loadCaptioner(dir), await loadCaptioner(tmp)];
      const halfParams = half.model.namedParameters();
      for (const [name, p] of full.model.namedParameters()) {
        const rounded = toFloat32({
          dtype: 'BF16',
          shape: p.variable.shape,
          data: fromFloat32(p.variable.dataSync() as Float32Array, 'BF16'),
        });
        expect(Array.from(halfParams.get(name)?.variable.dataSync() ?? []), name).toEqual(Array.from(rounded));
      }
      full.model.dispose();
      half.model.dispose();
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });

  it('a Hugging Face folder of another type is E_PRETRAINED_CONFIG naming model_type and the captioner types', async () => {
    const error = await loadCaptioner(path.join(FIXTURES, 'clip')).catch((e) => e);
    expect(error).toMatchObject({ code: 'E_PRETRAINED_CONFIG', details: { field: 'model_type' } });
    expect(error.message).toMatch(/clip\/config.json: model_type "clip" is not a captioner.*blip/);
  });
});

describe('BLIP folders Tessera refuses, naming the file and the field', () => {
  const dir = path.join(FIXTURES, 'blip');
  const hf = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8'));

  it('a clip of several frames is an E_INPUT (BLIP captions one image); a wrong rank is an E_SHAPE', () => {
    const config = blipFromHfConfig(hf, 'blip/config.json');
    const model = new BlipCaptioner(config);
    const clip = tf.zeros([1, 3, 3, 32, 32]);
    expect(() => model.encode(clip)).toThrow(expect.objectContaining({ code: 'E_INPUT', message: expect.stringMatching(/one image/) }));
    // A tensor of the wrong rank is a shape error, as in GIT's encode.
    const flat = tf.zeros([3, 32, 32]);
    expect(() => model.encode(flat)).toThrow(
      expect.objectContaining({ code: 'E_SHAPE', message: expect.stringMatching(/pixels must be/) }),
    );
    tf.dispose([clip, flat]);
    model.dispose();
  });

  it("absent keys take transformers' BlipConfig defaults (its full default config.json reads the same as an empty one)", () => {
    const full = blipFromHfConfig(expected.default_config, 'default/config.json');
    expect(blipFromHfConfig({ model_type: 'blip' }, 'empty/config.json')).toEqual(full);
    expect(full).toMatchObject({
      vision: { imageSize: 384, patchSize: 16, dim: 768, numHeads: 12, numLayers: 12, mlpDim: 3072 },
      text: { vocabSize: 30524, maxPositions: 512, dim: 768, numHeads: 8, numLayers: 12, mlpDim: 3072 },
      tieWordEmbeddings: true,
      bosTokenId: 30522,
      sepTokenId: 102,
      padTokenId: 0,
    });
  });

  it('VQA / retrieval architectures, a bad activation, an inconsistent encoder width', () => {
    const vqa = { ...hf, architectures: ['BlipForQuestionAnswering'] };
    expect(() => blipFromHfConfig(vqa, 'x/config.json')).toThrow(
      expect.objectContaining({ code: 'E_PRETRAINED_CONFIG', message: expect.stringMatching(/x\/config.json: architectures/) }),
    );
    const act = { ...hf, text_config: { ...hf.text_config, hidden_act: 'swish' } };
    expect(() => blipFromHfConfig(act, 'x/config.json')).toThrow(/text_config.hidden_act/);
    const width = { ...hf, text_config: { ...hf.text_config, encoder_hidden_size: 40 } };
    expect(() => blipFromHfConfig(width, 'x/config.json')).toThrow(/text_config.encoder_hidden_size/);
  });

  it('missing, unexpected and misshaped tensors are listed together in one E_PRETRAINED_WEIGHTS', async () => {
    const tmp = await mkdtemp(path.join(tmpdir(), 'blip-broken-'));
    try {
      for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'preprocessor_config.json'])
        await copyFile(path.join(dir, f), path.join(tmp, f));
      const file = await loadSafetensors(path.join(dir, 'model.safetensors'));
      const tensors = new Map(file.tensors);
      tensors.delete('text_decoder.cls.predictions.bias');
      const qkv = tensors.get('vision_model.encoder.layers.1.self_attn.qkv.weight');
      if (!qkv) throw new Error('the fixture has a fused qkv');
      tensors.set('vision_model.encoder.layers.1.self_attn.qkv.weight', { ...qkv, shape: [48, 36], data: qkv.data.slice(0, 48 * 36) });
      tensors.set('text_decoder.extra.weight', { ...qkv });
      await saveSafetensors(path.join(tmp, 'model.safetensors'), tensors);
      const error = await loadCaptioner(tmp).catch((e) => e);
      expect(error).toMatchObject({ code: 'E_PRETRAINED_WEIGHTS' });
      expect(error.message).toContain(path.join(tmp, 'model.safetensors'));
      expect(error.details.missing).toEqual(['text_decoder.cls.predictions.bias']);
      expect(error.details.unexpected).toEqual(['text_decoder.extra.weight']);
      expect(error.details.misshaped).toEqual(['vision_model.encoder.layers.1.self_attn.qkv.weight: expected [72,24], got [48,36]']);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });

  it("the fused qkv maps to one tensor in three row blocks; the tied head's bias is cls.predictions.bias", () => {
    const mapping = blipHfMapping(blipFromHfConfig(hf, 'blip/config.json'));
    const name = 'vision_model.encoder.layers.0.self_attn.k_proj.weight';
    expect(mapping.toHfName(name)).toBe('vision_model.encoder.layers.0.self_attn.qkv.weight');
    expect(mapping.hfPart?.(name)).toEqual({ part: 1, parts: 3 });
    expect(mapping.toHfName('text_decoder.decoder.layers.1.cross_attn.k_proj.bias')).toBe(
      'text_decoder.bert.encoder.layer.1.crossattention.self.key.bias',
    );
    expect(mapping.toHfName('text_decoder.output_bias')).toBe('text_decoder.cls.predictions.bias');
  });
});
