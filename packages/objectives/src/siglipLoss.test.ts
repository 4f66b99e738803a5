import { initBackend, tf } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose, Reference } from '../test/reference.js';
import { SiglipLoss, siglipLoss } from './siglipLoss.js';

let ref: Reference;
beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  ref = await Reference.load();
});

describe('siglipLoss', () => {
  it('matches PyTorch loss and gradients (4 images, 6 texts, several positives)', () => {
    const names = ['image', 'text', 'logit_scale', 'logit_bias'];
    const inputs = names.map((k) => ref.tensor(`siglip.in.${k}`));
    const positives = ref.tensor('siglip.in.positives');
    const f = (i: tf.Tensor, t: tf.Tensor, s: tf.Tensor, b: tf.Tensor) =>
      siglipLoss({ imageEmbeds: i, textEmbeds: t, logitScale: s, logitBias: b, positives }).loss;
    const loss = f(...(inputs as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]));
    expectClose(loss, ref, 'siglip.loss');
    const grads = tf.grads(f)(inputs);
    for (const [i, k] of names.entries()) expectClose(grads[i] as tf.Tensor, ref, `siglip.grad.${k}`);
    tf.dispose([inputs, positives, loss, grads]);
  });

  it('SiglipLoss starts at t = ln 10, b = -10; aligned pairs at high scale give a loss near 0', () => {
    const loss = new SiglipLoss();
    expect(loss.logitScale.dataSync()[0]).toBeCloseTo(Math.log(10), 6);
    expect(loss.logitBias.dataSync()[0]).toBe(-10);
    const value = tf.tidy(() => {
      const e = tf.eye(6);
      // cos = 1 on the diagonal, 0 elsewhere: logits 100 - 10 and -10, each term ~ e^-10 or less.
      loss.logitScale.assign(tf.scalar(Math.log(100)));
      return loss.forward(e, e).loss.dataSync()[0] as number;
    });
    expect(value).toBeLessThan(6 * Math.exp(-10) * 1.01);
    loss.dispose();
  });
});
