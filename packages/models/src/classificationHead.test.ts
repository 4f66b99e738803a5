import { initBackend, SeededRandom, tf } from '@tessera/core';
import { VisionEncoder } from '@tessera/transformer';
import { beforeAll, describe, expect, it } from 'vitest';
import { tinyBatch } from '../test/tiny.js';
import { ClassificationHead, ImageClassifier } from './classificationHead.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

const vision = (seed: number) =>
  new VisionEncoder({ imageSize: 8, patchSize: 4, dim: 16, numHeads: 2, numLayers: 1, rng: new SeededRandom(seed) });

describe('ClassificationHead', () => {
  it('is linear + softmax over pooled features', () => {
    const head = new ClassificationHead({ inFeatures: 4, numClasses: 3, rng: new SeededRandom(0) });
    const x = tf.tensor2d([[1, 2, 3, 4]]);
    const w = head.dense.weight.arraySync() as number[][];
    const logits = w.map((row) => row.reduce((s, v, k) => s + v * [1, 2, 3, 4][k]!, 0));
    const probs = head.predict(x).arraySync()[0] as number[];
    const z = logits.reduce((s, l) => s + Math.exp(l), 0);
    for (const [i, p] of probs.entries()) expect(p).toBeCloseTo(Math.exp(logits[i]!) / z, 5);
    expect(() => new ClassificationHead({ inFeatures: 4, numClasses: 1, rng: new SeededRandom(0) })).toThrow(/numClasses/);
    x.dispose();
    head.dispose();
  });

  it('fine-tunes an image classifier; a linear probe leaves the encoder untouched', () => {
    const b = tinyBatch(6, 8, 1, 20, 5);
    const labels = tf.tensor1d([0, 1, 2, 0, 1, 2], 'int32');
    for (const freezeEncoder of [false, true]) {
      const model = new ImageClassifier({ vision: vision(1), numClasses: 3, freezeEncoder, rng: new SeededRandom(2) });
      const before = Array.from(model.vision_model.encoder.namedParameters().values())[0]!.variable.dataSync().slice();
      const opt = tf.train.adam(3e-2);
      const losses: number[] = [];
      for (let i = 0; i < 15; i++) {
        const cost = opt.minimize(() => model.loss(b.images, labels).loss, true, model.trainableVariables()) as tf.Scalar;
        losses.push(cost.dataSync()[0] as number);
        cost.dispose();
      }
      // Random frozen features separate these 6 images less well than a trained encoder does.
      expect(losses[14]).toBeLessThan(losses[0]! * (freezeEncoder ? 0.99 : 0.8));
      const after = Array.from(model.vision_model.encoder.namedParameters().values())[0]!.variable.dataSync();
      expect(Array.from(after).every((v, i) => v === before[i])).toBe(freezeEncoder);
      opt.dispose();
      model.dispose();
    }
    tf.dispose([b.images, b.ids, b.mask, labels]);
  });
});
