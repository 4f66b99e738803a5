import { initBackend, SeededRandom, tf } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose, expectCode, Reference } from '../test/reference.js';
import { ItmHead, itmLabels, itmLoss, sampleHardNegatives } from './itm.js';

let ref: Reference;
beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  ref = await Reference.load();
});

describe('itmLoss', () => {
  it('matches PyTorch cross_entropy over [6, 2] logits, its gradient and accuracy', () => {
    const logits = ref.tensor('itm.in.logits');
    const labels = ref.tensor('itm.in.labels');
    const out = itmLoss(logits, labels);
    expectClose(out.loss, ref, 'itm.loss');
    expectClose(out.accuracy, ref, 'itm.accuracy');
    expectClose(tf.grad((x: tf.Tensor) => itmLoss(x, labels).loss)(logits), ref, 'itm.grad.logits');
  });

  it('itmLabels lays out B positives then 2B negatives; ItmHead is a Linear [2, H]', () => {
    expect(Array.from(itmLabels(2).dataSync())).toEqual([1, 1, 0, 0, 0, 0]);
    const head = new ItmHead({ hiddenSize: 8, rng: new SeededRandom(1) });
    expect([...head.namedParameters().keys()]).toEqual(['weight', 'bias']);
    const out = head.loss(tf.zeros([6, 8]), itmLabels(2));
    // Zero input and zero bias: both classes at 0, loss ln 2.
    expect(out.loss.dataSync()[0]).toBeCloseTo(Math.log(2), 6);
    expectCode(() => itmLoss(tf.zeros([3, 3]), tf.zeros([3], 'int32')), 'E_INPUT');
  });
});

describe('sampleHardNegatives', () => {
  it('never returns a positive and follows softmax(similarity) over the negatives', () => {
    // Image 0 is much closer to text 1 than to text 2 or 3: logits 2, 0, 0 -> p = e^2 / (e^2 + 2).
    const sim = tf.tensor2d([5, 2, 0, 0, 0, 5, 0, 0, 0, 0, 5, 0, 0, 0, 0, 5], [4, 4]);
    const rng = new SeededRandom(31);
    const counts = [0, 0, 0, 0];
    const trials = 4000;
    for (let t = 0; t < trials; t++) {
      const { textForImage, imageForText } = sampleHardNegatives(sim, rng);
      for (let i = 0; i < 4; i++) {
        expect(textForImage[i]).not.toBe(i);
        expect(imageForText[i]).not.toBe(i);
      }
      counts[textForImage[0] as number]++;
    }
    const expected = Math.exp(2) / (Math.exp(2) + 2);
    expect(Math.abs((counts[1] as number) / trials - expected)).toBeLessThan(0.03);
    expect(counts[0]).toBe(0);
  });

  it('respects a positives mask (several captions of one image) and needs a negative', () => {
    const sim = tf.zeros([3, 3]);
    const positives = tf.tensor2d([1, 1, 0, 1, 1, 0, 0, 0, 1], [3, 3]);
    const rng = new SeededRandom(2);
    for (let t = 0; t < 50; t++) {
      const { textForImage } = sampleHardNegatives(sim, rng, positives);
      expect(textForImage[0]).toBe(2);
      expect(textForImage[1]).toBe(2);
    }
    expectCode(() => sampleHardNegatives(tf.zeros([1, 1]), rng), 'E_INPUT');
    expectCode(() => sampleHardNegatives(tf.tensor2d([0, Number.NaN, 1, 0], [2, 2]), rng), 'E_INPUT');
    const a = sampleHardNegatives(tf.randomUniform([5, 5], 0, 1, 'float32', 3), new SeededRandom(4));
    const b = sampleHardNegatives(tf.randomUniform([5, 5], 0, 1, 'float32', 3), new SeededRandom(4));
    expect(a).toEqual(b);
  });
});
