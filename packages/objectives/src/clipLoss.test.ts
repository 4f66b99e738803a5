import { initBackend, isTesseraError, SeededRandom, tf } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose, Reference } from '../test/reference.js';
import { ClipLoss, type ClipLossInput, clipLoss } from './clipLoss.js';
import { contrastiveMetrics } from './contrastiveMetrics.js';
import { softTargetCrossEntropy } from './crossEntropy.js';
import { positivesFromIds, resolvePositives } from './positives.js';
import { l2Normalize, matMulTransposed } from './tensorUtils.js';

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

/** clipLoss as plain tfjs ops, every one on the tape: the formulation its analytic gradient replaced. */
function autodiffClipLoss(input: ClipLossInput) {
  const [n, m] = [input.imageEmbeds.shape[0] as number, input.textEmbeds.shape[0] as number];
  const smoothing = input.labelSmoothing ?? 0;
  return tf.tidy(() => {
    const positives = resolvePositives(input.positives, n, m, 'autodiffClipLoss');
    const normalize = input.normalize ?? true;
    const image = normalize ? l2Normalize(input.imageEmbeds) : input.imageEmbeds;
    const text = normalize ? l2Normalize(input.textEmbeds) : input.textEmbeds;
    const scale = tf.exp(tf.clipByValue(tf.reshape(input.logitScale, []), -Number.MAX_VALUE, input.maxLogitScale ?? Math.log(100)));
    const similarity = matMulTransposed(image, text) as tf.Tensor2D;
    const logits = tf.mul(similarity, scale) as tf.Tensor2D;
    const rowTargets = tf.div(positives, tf.sum(positives, 1, true)) as tf.Tensor2D;
    const positivesT = tf.transpose(positives) as tf.Tensor2D;
    const colTargets = tf.div(positivesT, tf.sum(positivesT, 1, true)) as tf.Tensor2D;
    const lossImageToText = softTargetCrossEntropy(logits, rowTargets, smoothing);
    const lossTextToImage = softTargetCrossEntropy(tf.transpose(logits) as tf.Tensor2D, colTargets, smoothing);
    return {
      loss: tf.div(tf.add(lossImageToText, lossTextToImage), 2) as tf.Scalar,
      lossImageToText,
      lossTextToImage,
      logitScale: scale as tf.Scalar,
      metrics: contrastiveMetrics(similarity, positives),
    };
  });
}

/** Every element within `tolerance * max(1, |expected|)`, as expectClose. */
function expectAllClose(actual: tf.Tensor, expected: tf.Tensor, what: string, tolerance = 1e-5): void {
  expect(actual.shape, what).toEqual(expected.shape);
  const [a, e] = [actual.dataSync(), expected.dataSync()];
  let worst = 0;
  for (let k = 0; k < e.length; k++)
    worst = Math.max(worst, Math.abs((a[k] as number) - (e[k] as number)) / Math.max(1, Math.abs(e[k] as number)));
  expect(worst, `${what}: max scaled |diff| ${worst}`).toBeLessThanOrEqual(tolerance);
}

describe('clipLoss analytic gradient', () => {
  const rng = new SeededRandom(11);
  const embeds = (n: number, d: number, spread = 1) =>
    tf.tensor2d(
      rng.array(n * d, (r) => r.normal() * spread),
      [n, d],
    );
  const cases: Array<{ name: string; make: () => Omit<ClipLossInput, 'logitScale'> & { logScale: number } }> = [
    {
      name: 'the diagonal at scale 1/0.07',
      make: () => ({ imageEmbeds: embeds(8, 16), textEmbeds: embeds(8, 16), logScale: Math.log(1 / 0.07) }),
    },
    {
      name: 'several captions per image, label smoothing 0.1, the clamp active',
      make: () => ({
        imageEmbeds: embeds(4, 12),
        textEmbeds: embeds(7, 12),
        positives: positivesFromIds([0, 1, 2, 3], [0, 0, 0, 1, 1, 2, 3]),
        labelSmoothing: 0.1,
        logScale: 5,
      }),
    },
    {
      name: 'a mask with shared captions and smoothing 0.3 at the clamp exactly',
      make: () => ({
        imageEmbeds: embeds(5, 6),
        textEmbeds: embeds(6, 6),
        positives: tf.tensor2d([1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1], [5, 6]),
        labelSmoothing: 0.3,
        logScale: Math.log(100),
      }),
    },
    {
      name: 'the diagonal with smoothing 0.2, unnormalised embeddings and a custom clamp',
      make: () => ({
        imageEmbeds: embeds(6, 10, 0.3),
        textEmbeds: embeds(6, 10, 0.3),
        labelSmoothing: 0.2,
        normalize: false,
        maxLogitScale: 1,
        logScale: 0.5,
      }),
    },
    {
      name: 'a near-zero image embedding, whose norm is floored',
      make: () => {
        const image = embeds(6, 8);
        const tiny = tf.tidy(() => tf.mul(image, tf.tensor2d([1, 1e-14, 1, 1, 1, 1], [6, 1])));
        image.dispose();
        return { imageEmbeds: tiny, textEmbeds: embeds(6, 8), logScale: 2 };
      },
    },
  ];
  for (const c of cases) {
    it(`equals the autodiff formulation: ${c.name}`, () => {
      const before = tf.memory().numTensors;
      const { logScale, ...rest } = c.make();
      const logitScale = tf.scalar(logScale);
      const inputs = [rest.imageEmbeds, rest.textEmbeds, logitScale];
      const ours = clipLoss({ ...rest, logitScale });
      const theirs = autodiffClipLoss({ ...rest, logitScale });
      for (const key of ['loss', 'lossImageToText', 'lossTextToImage', 'logitScale'] as const) expectAllClose(ours[key], theirs[key], key);
      for (const key of ['accuracyImageToText', 'accuracyTextToImage', 'positiveSimilarity', 'negativeSimilarity'] as const)
        expectAllClose(ours.metrics[key], theirs.metrics[key], key);
      const gradsOf = (f: typeof clipLoss) =>
        tf.grads((i: tf.Tensor, t: tf.Tensor, s: tf.Tensor) => f({ ...rest, imageEmbeds: i, textEmbeds: t, logitScale: s }).loss)(inputs);
      const [g, h] = [gradsOf(clipLoss), gradsOf(autodiffClipLoss)];
      for (const [k, what] of ['image', 'text', 'logit scale'].entries())
        expectAllClose(g[k] as tf.Tensor, h[k] as tf.Tensor, `grad ${what}`);
      if (logScale > (rest.maxLogitScale ?? Math.log(100))) expect(g[2]?.dataSync()[0]).toBe(0);
      // One direction alone differentiates too.
      const oneWay = (f: typeof clipLoss) =>
        tf.grads(
          (i: tf.Tensor, t: tf.Tensor, s: tf.Tensor) => f({ ...rest, imageEmbeds: i, textEmbeds: t, logitScale: s }).lossTextToImage,
        )(inputs);
      const [u, v] = [oneWay(clipLoss), oneWay(autodiffClipLoss)];
      for (const [k, what] of ['image', 'text', 'logit scale'].entries())
        expectAllClose(u[k] as tf.Tensor, v[k] as tf.Tensor, `t2i grad ${what}`);
      tf.dispose([ours, theirs, g, h, u, v, inputs, rest.positives as tf.Tensor]);
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});
