import { initBackend, tf } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose, expectCode, Reference } from '../test/reference.js';
import { CaptioningLoss, captioningLoss, teacherForcing } from './captioningLoss.js';

let ref: Reference;
beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  ref = await Reference.load();
});

describe('captioningLoss', () => {
  it('matches PyTorch cross_entropy(ignore_index=pad, label_smoothing=0.1) and its gradient', () => {
    const logits = ref.tensor('caption.in.logits');
    const targets = ref.tensor('caption.in.targets');
    const f = (x: tf.Tensor) => captioningLoss({ logits: x, targets, padTokenId: 0, labelSmoothing: 0.1 }).loss;
    const loss = f(logits);
    expectClose(loss, ref, 'caption.loss');
    const grad = tf.grad(f)(logits);
    expectClose(grad, ref, 'caption.grad.logits');
    // Padding targets get no gradient at all.
    const g = grad.arraySync() as number[][][];
    expect((g[0] as number[][])[4]?.every((v) => v === 0)).toBe(true);
    tf.dispose([logits, targets, loss, grad]);
  });

  it('teacherForcing shifts by one token', () => {
    const ids = tf.tensor2d([[1, 5, 6, 2, 0]], [1, 5], 'int32');
    const { inputIds, targetIds } = teacherForcing(ids);
    expect(inputIds.arraySync()).toEqual([[1, 5, 6, 2]]);
    expect(targetIds.arraySync()).toEqual([[5, 6, 2, 0]]);
    tf.dispose([ids, inputIds, targetIds]);
    expectCode(() => teacherForcing(tf.zeros([2, 1], 'int32') as tf.Tensor2D), 'E_INPUT');
  });

  it('CaptioningLoss rejects targets outside the vocabulary', () => {
    const loss = new CaptioningLoss({ padTokenId: 0 });
    expect(loss.config.labelSmoothing).toBe(0.1);
    const logits = tf.zeros([1, 2, 5]);
    const targets = tf.tensor2d([[3, 7]], [1, 2], 'int32');
    expectCode(() => loss.forward(logits, targets), 'E_INPUT');
    tf.dispose([logits, targets]);
  });
});
