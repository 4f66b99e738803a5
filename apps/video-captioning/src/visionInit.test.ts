import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { initBackend, type tf } from '@tessera/core';
import { Captioner, createModel, saveModel } from '@tessera/models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initVisionFromClip } from './visionInit.js';

let dir: string;
let clipDir: string;
const vision = { imageSize: 16, patchSize: 8, dim: 16, numHeads: 2, numLayers: 2 };
const captionerVision = { imageSize: 16, patchSize: 8, visionDim: 16, visionHeads: 2, visionLayers: 2, numFrames: 3, vocabSize: 20 };

const values = (t: tf.Tensor) => Array.from(t.dataSync());

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  dir = await mkdtemp(path.join(os.tmpdir(), 'tessera-vision-init-'));
  clipDir = path.join(dir, 'clip');
  const { model, config } = createModel({
    type: 'clip',
    name: 'clip-test',
    embedDim: 8,
    vision,
    text: { vocabSize: 30, maxPositions: 8, dim: 16, numHeads: 2, numLayers: 1 },
  });
  await saveModel(clipDir, { model, config });
  model.dispose();
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('initVisionFromClip', () => {
  it('copies the CLIP vision tower into a joint-mode video encoder (position rows without [CLS]) and leaves the rest alone', async () => {
    const clip = createModel({
      type: 'clip',
      embedDim: 8,
      vision,
      text: { vocabSize: 30, maxPositions: 8, dim: 16, numHeads: 2, numLayers: 1 },
    }).model;
    await clip.load(path.join(clipDir, 'model.safetensors'));
    const source = new Map([...clip.namedParameters()].map(([n, p]) => [n, p.variable]));
    const captioner = new Captioner({ ...captionerVision, videoMode: 'joint', seed: 5 });
    const params = new Map([...captioner.namedParameters()].map(([n, p]) => [n, p.variable]));
    const temporalBefore = values(params.get('video.temporal_embedding.weight') as tf.Tensor);
    const decoderBefore = values(params.get('decoder.embeddings.token_embedding.weight') as tf.Tensor);

    const copied = await initVisionFromClip(captioner, clipDir);
    // projection weight + bias, positions, 2 layers x 16 tensors, final norm weight + bias
    expect(copied).toBe(3 + 2 * 16 + 2);
    const fc1 = 'encoder.layers.1.mlp.fc1.weight';
    expect(values(params.get(`video.${fc1}`) as tf.Tensor)).toEqual(values(source.get(`vision_model.${fc1}`) as tf.Tensor));
    const positions = source.get('vision_model.embeddings.position_embeddings') as tf.Tensor; // [1, 1 + 4, 16]
    expect(values(params.get('video.embeddings.position_embeddings') as tf.Tensor)).toEqual(values(positions).slice(16));
    expect(values(params.get('video.temporal_embedding.weight') as tf.Tensor)).toEqual(temporalBefore);
    expect(values(params.get('decoder.embeddings.token_embedding.weight') as tf.Tensor)).toEqual(decoderBefore);
    captioner.dispose();
    clip.dispose();
  });

  it('fills a frames-mode encoder (the whole per-frame ViT, [CLS] included)', async () => {
    const captioner = new Captioner({ ...captionerVision, videoMode: 'frames' });
    const copied = await initVisionFromClip(captioner, clipDir);
    const names = [...captioner.namedParameters().keys()].filter((n) => n.startsWith('video.vision.'));
    expect(copied).toBe(names.length);
    expect(names).toContain('video.vision.embeddings.cls_token');
    captioner.dispose();
  });

  it('names the captioner settings to change when the architectures differ', async () => {
    const captioner = new Captioner({ ...captionerVision, visionDim: 32, visionLayers: 1 });
    await expect(initVisionFromClip(captioner, clipDir)).rejects.toMatchObject({
      code: 'E_CONFIG',
      message: expect.stringContaining('set model.visionDim: 16, model.visionLayers: 2'),
    });
    await expect(initVisionFromClip(captioner, path.join(dir, 'missing'))).rejects.toMatchObject({ code: 'E_IO' });
    captioner.dispose();
  });
});
