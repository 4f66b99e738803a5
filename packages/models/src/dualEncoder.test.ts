import { initBackend, SeededRandom, tf } from '@tessera/core';
import { TextEncoder, VisionEncoder } from '@tessera/transformer';
import { beforeAll, describe, expect, it } from 'vitest';
import { TINY_CLIP, tinyBatch } from '../test/tiny.js';
import { DualEncoder } from './dualEncoder.js';
import { createModel } from './registry.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

/** Cross-entropy of row i with target i, by hand, over logits given as nested arrays. */
function rowCrossEntropy(logits: number[][]): number {
  let total = 0;
  logits.forEach((row, i) => {
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
    total += lse - (row[i] as number);
  });
  return total / logits.length;
}

describe('DualEncoder', () => {
  it('takes injected towers and names parameters as Hugging Face CLIPModel', () => {
    const rng = new SeededRandom(0);
    const vision = new VisionEncoder({ imageSize: 8, patchSize: 4, dim: 16, numHeads: 2, numLayers: 1, rng });
    const text = new TextEncoder({ vocabSize: 20, maxPositions: 8, dim: 12, numHeads: 2, numLayers: 1, rng });
    const model = new DualEncoder({ vision, text, embedDim: 8, rng });
    const names = [...model.namedParameters().keys()];
    expect(names).toContain('visual_projection.weight');
    expect(names).toContain('text_projection.weight');
    expect(names).toContain('logit_scale');
    expect(names).toContain('vision_model.embeddings.cls_token');
    expect(names).toContain('text_model.embeddings.token_embedding.weight');
    expect(model.namedParameters().get('logit_scale')?.decay).toBe(false);
    expect(model.visual_projection?.weight.shape).toEqual([8, 16]);
    expect(model.text_projection?.weight.shape).toEqual([8, 12]);
    expect(model.temperatureScale()).toBeCloseTo(1 / 0.07, 4);
    model.dispose();
  });

  it('encodes to unit vectors and its loss is the symmetric InfoNCE computed by hand', () => {
    const { model } = createModel(TINY_CLIP);
    const m = model as DualEncoder;
    const b = tinyBatch(4);
    const before = tf.memory().numTensors;
    const img = m.encodeImage(b.images);
    const txt = m.encodeText(b.ids, b.mask);
    expect(img.shape).toEqual([4, 8]);
    expect(txt.shape).toEqual([4, 8]);
    const norms = tf.norm(img, 'euclidean', 1);
    for (const n of norms.arraySync() as number[]) expect(n).toBeCloseTo(1, 5);
    norms.dispose();
    const I = img.arraySync() as number[][];
    const T = txt.arraySync() as number[][];
    const scale = 1 / 0.07;
    const logits = I.map((a) => T.map((t) => scale * a.reduce((s, v, k) => s + v * (t[k] as number), 0)));
    const logitsT = logits[0]!.map((_, j) => logits.map((row) => row[j] as number));
    const expected = (rowCrossEntropy(logits) + rowCrossEntropy(logitsT)) / 2;
    const out = m.forward(b);
    expect(out.loss.dataSync()[0]).toBeCloseTo(expected, 4);
    tf.dispose([img, txt, out as unknown as tf.TensorContainer]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([b.images, b.ids, b.mask]);
    m.dispose();
  });

  it('loss decreases on a tiny batch over a few steps', () => {
    const { model } = createModel(TINY_CLIP);
    const m = model as DualEncoder;
    const b = tinyBatch(6, 8, 5, 20, 1);
    const optimizer = tf.train.adam(3e-3);
    const losses: number[] = [];
    for (let step = 0; step < 12; step++) {
      const cost = optimizer.minimize(() => m.forward(b).loss, true, m.trainableVariables()) as tf.Scalar;
      losses.push(cost.dataSync()[0] as number);
      cost.dispose();
    }
    expect(losses[losses.length - 1]).toBeLessThan(losses[0]! * 0.7);
    optimizer.dispose();
    tf.dispose([b.images, b.ids, b.mask]);
    m.dispose();
  });

  it('accepts several captions per image through a positives mask', () => {
    const { model } = createModel(TINY_CLIP);
    const m = model as DualEncoder;
    const b = tinyBatch(4);
    const images = tf.slice(b.images, [0, 0, 0, 0], [2, 3, 8, 8]);
    const positives = tf.tensor2d([1, 1, 0, 0, 0, 0, 1, 1], [2, 4]);
    const out = m.forward({ images, ids: b.ids, mask: b.mask, positives });
    expect(Number.isFinite(out.loss.dataSync()[0])).toBe(true);
    expect(() => m.forward({ images, ids: b.ids, mask: b.mask })).toThrow(/positives/);
    tf.dispose([images, positives, b.images, b.ids, b.mask, out as unknown as tf.TensorContainer]);
    m.dispose();
  });
});
