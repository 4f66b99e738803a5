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

  it('gives the softmax cross-entropy and head gradients of a hand computation', () => {
    const b = tinyBatch(6, 8, 1, 20, 5);
    const labels = [0, 1, 2, 0, 1, 2];
    const y = tf.tensor1d(labels, 'int32');
    const model = new ImageClassifier({ vision: vision(1), numClasses: 3, freezeEncoder: true, rng: new SeededRandom(2) });
    const { weight, bias } = model.classifier.dense;
    const pooled = model.vision_model.forward(b.images).pooled;
    const f = pooled.arraySync() as number[][];
    const w = weight.arraySync() as number[][];
    const c = (bias as tf.Variable).arraySync() as number[];
    // By hand: p = softmax(W f + c); loss = mean -log p[label]; dL/dlogits = (p - onehot) / B;
    // dW = sum_i dlogits_i f_i^T, dc = sum_i dlogits_i.
    const n = f.length;
    let loss = 0;
    const dW = w.map((row) => row.map(() => 0));
    const dc = c.map(() => 0);
    for (let i = 0; i < n; i++) {
      const logits = w.map((row, k) => row.reduce((s, v, j) => s + v * f[i]![j]!, c[k]!));
      const m = Math.max(...logits);
      const z = logits.reduce((s, l) => s + Math.exp(l - m), 0);
      const p = logits.map((l) => Math.exp(l - m) / z);
      loss -= Math.log(p[labels[i]!]!) / n;
      for (let k = 0; k < 3; k++) {
        const d = (p[k]! - (k === labels[i] ? 1 : 0)) / n;
        dc[k]! += d;
        for (let j = 0; j < f[i]!.length; j++) dW[k]![j]! += d * f[i]![j]!;
      }
    }
    const { value, grads } = tf.variableGrads(() => model.loss(b.images, y).loss, [weight, bias as tf.Variable]);
    expect(value.dataSync()[0]).toBeCloseTo(loss, 5);
    const gw = grads[weight.name]!.arraySync() as number[][];
    const gc = grads[(bias as tf.Variable).name]!.arraySync() as number[];
    for (let k = 0; k < 3; k++) {
      expect(gc[k]).toBeCloseTo(dc[k]!, 5);
      for (let j = 0; j < dW[k]!.length; j++) expect(gw[k]![j]).toBeCloseTo(dW[k]![j]!, 5);
    }
    tf.dispose([b.images, b.ids, b.mask, y, pooled, value, ...Object.values(grads)]);
    model.dispose();
  });

  it('fine-tunes an image classifier and a linear probe to accuracy 1 on separable features', () => {
    // 6 images whose pooled features are 6 points in general position in R^16: any labelling of
    // at most d + 1 such points is linearly separable, so training accuracy must reach 1, for the
    // frozen-encoder linear probe as for fine-tuning. The probe leaves the encoder untouched.
    const b = tinyBatch(6, 8, 1, 20, 5);
    const labels = tf.tensor1d([0, 1, 2, 0, 1, 2], 'int32');
    for (const freezeEncoder of [false, true]) {
      const model = new ImageClassifier({ vision: vision(1), numClasses: 3, freezeEncoder, rng: new SeededRandom(2) });
      const before = Array.from(model.vision_model.encoder.namedParameters().values())[0]!.variable.dataSync().slice();
      const opt = tf.train.adam(3e-2);
      const initial = tf.tidy(() => model.loss(b.images, labels).accuracy.dataSync()[0] as number);
      expect(initial).toBeLessThan(1);
      // The random encoder's features lie close together: the probe needs more steps to separate them.
      for (let i = 0; i < (freezeEncoder ? 150 : 30); i++) {
        const cost = opt.minimize(() => model.loss(b.images, labels).loss, true, model.trainableVariables()) as tf.Scalar;
        cost.dispose();
      }
      const accuracy = tf.tidy(() => model.loss(b.images, labels).accuracy.dataSync()[0] as number);
      expect(accuracy).toBe(1);
      const after = Array.from(model.vision_model.encoder.namedParameters().values())[0]!.variable.dataSync();
      expect(Array.from(after).every((v, i) => v === before[i])).toBe(freezeEncoder);
      opt.dispose();
      model.dispose();
    }
    tf.dispose([b.images, b.ids, b.mask, labels]);
  });
});
