import { initBackend, isTesseraError, SeededRandom, tf } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose, Reference } from '../test/reference.js';
import { ClipLoss, clipLoss } from './clipLoss.js';
import { positivesFromIds } from './positives.js';

let ref: Reference;
beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  ref = await Reference.load();
});

function checkCase(name: string, labelSmoothing: number): void {
  const [image, text, scale, positives] = ['image', 'text', 'logit_scale', 'positives'].map((k) => ref.tensor(`${name}.in.${k}`)) as [
    tf.Tensor,
    tf.Tensor,
    tf.Tensor,
    tf.Tensor,
  ];
  const run = (i: tf.Tensor, t: tf.Tensor, s: tf.Tensor) =>
    clipLoss({ imageEmbeds: i, textEmbeds: t, logitScale: s, positives, labelSmoothing });
  const out = run(image, text, scale);
  expectClose(out.loss, ref, `${name}.loss`);
  expectClose(out.lossImageToText, ref, `${name}.loss_i2t`);
  expectClose(out.lossTextToImage, ref, `${name}.loss_t2i`);
  expectClose(out.metrics.accuracyImageToText, ref, `${name}.accuracy_i2t`);
  expectClose(out.metrics.accuracyTextToImage, ref, `${name}.accuracy_t2i`);
  expectClose(out.metrics.positiveSimilarity, ref, `${name}.positive_similarity`);
  expectClose(out.metrics.negativeSimilarity, ref, `${name}.negative_similarity`);
  const grads = tf.grads((i: tf.Tensor, t: tf.Tensor, s: tf.Tensor) => run(i, t, s).loss)([image, text, scale]);
  expectClose(grads[0] as tf.Tensor, ref, `${name}.grad.image`);
  expectClose(grads[1] as tf.Tensor, ref, `${name}.grad.text`);
  expectClose(grads[2] as tf.Tensor, ref, `${name}.grad.logit_scale`);
  tf.dispose([image, text, scale, positives, out, grads]);
}

describe('clipLoss against PyTorch', () => {
  it('matches loss, metrics and gradients on a 6x6 batch at scale 1/0.07', () => checkCase('clip', 0));
  it('matches with 4 images, 7 captions (several positives each) and label smoothing 0.1', () => checkCase('clip_multi', 0.1));
});

describe('clipLoss properties', () => {
  const rng = new SeededRandom(7);
  const randomEmbeds = (n: number, d: number) =>
    tf.tensor2d(
      rng.array(n * d, (r) => r.normal()),
      [n, d],
    );

  it('gives a loss near 0 for perfectly aligned pairs at high scale', () => {
    const before = tf.memory().numTensors;
    const e = tf.eye(8);
    const out = clipLoss({ imageEmbeds: e, textEmbeds: e, logitScale: tf.scalar(Math.log(100)) });
    // Off-diagonal cosines are 0, so each row's loss is log(1 + 7 e^-100), ~1e-43.
    expect(out.loss.dataSync()[0]).toBeLessThan(1e-6);
    expect(out.metrics.accuracyImageToText.dataSync()[0]).toBe(1);
    tf.dispose([e, out]);
    expect(tf.memory().numTensors).toBe(before + 1); // the scalar passed in
  });

  it('gives about ln(batch) for random pairs at scale 1', () => {
    const batch = 64;
    const [i, t, s] = [randomEmbeds(batch, 256), randomEmbeds(batch, 256), tf.scalar(0)];
    const loss = clipLoss({ imageEmbeds: i, textEmbeds: t, logitScale: s }).loss.dataSync()[0] as number;
    expect(Math.abs(loss - Math.log(batch))).toBeLessThan(0.02);
    tf.dispose([i, t, s]);
  });

  it('clamps the scale at ln 100: same loss above it, zero gradient for the scale', () => {
    const [i, t] = [randomEmbeds(4, 8), randomEmbeds(4, 8)];
    const at = clipLoss({ imageEmbeds: i, textEmbeds: t, logitScale: tf.scalar(Math.log(100)) });
    const above = clipLoss({ imageEmbeds: i, textEmbeds: t, logitScale: tf.scalar(6) });
    expect(above.logitScale.dataSync()[0]).toBeCloseTo(100, 3);
    expect(above.loss.dataSync()[0]).toBeCloseTo(at.loss.dataSync()[0] as number, 6);
    const g = tf.grad((s: tf.Tensor) => clipLoss({ imageEmbeds: i, textEmbeds: t, logitScale: s }).loss)(tf.scalar(6));
    expect(g.dataSync()[0]).toBe(0);
  });

  it('ClipLoss registers logit_scale initialised to ln(1/0.07) and rejects unknown config keys', () => {
    const loss = new ClipLoss();
    expect([...loss.namedParameters().keys()]).toEqual(['logit_scale']);
    expect(loss.logitScale.dataSync()[0]).toBeCloseTo(Math.log(1 / 0.07), 6);
    expect(() => new ClipLoss({ temperature: 0.07 } as never)).toThrowError(/temperature/);
    loss.logitScale.assign(tf.scalar(5));
    loss.clampLogitScale();
    expect(loss.logitScale.dataSync()[0]).toBeCloseTo(Math.log(100), 6);
    loss.dispose();
  });

  it('positivesFromIds builds the several-captions mask of the PyTorch case', () => {
    const mask = positivesFromIds([0, 1, 2, 3], [0, 0, 0, 1, 1, 2, 3]);
    const expected = ref.tensor('clip_multi.in.positives');
    expect(Array.from(mask.dataSync())).toEqual(Array.from(expected.dataSync()));
    tf.dispose([mask, expected]);
  });

  it('rejects unmatched batch sizes without a positives mask and rows without a positive', () => {
    const [i, t] = [randomEmbeds(3, 8), randomEmbeds(4, 8)];
    const catchCode = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return isTesseraError(e) ? e.code : 'other';
      }
      return 'none';
    };
    expect(catchCode(() => clipLoss({ imageEmbeds: i, textEmbeds: t, logitScale: tf.scalar(1) }))).toBe('E_INPUT');
    const pos = tf.tensor2d([1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0], [3, 4]);
    expect(catchCode(() => clipLoss({ imageEmbeds: i, textEmbeds: t, logitScale: tf.scalar(1), positives: pos }))).toBe('E_INPUT');
  });
});
