import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './backend.js';
import { combineLosses } from './combineLosses.js';
import { tf } from './tf.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return 'no error';
};

describe('combineLosses', () => {
  it('counts a part without a weight with weight 1 (hand computed)', () => {
    tf.tidy(() => {
      const parts = { itc: tf.scalar(2), itm: tf.scalar(0.5), mlm: tf.scalar(3) };
      // itc and itm have no weight -> 1; mlm 0.5; mim is off and absent: 2 + 0.5 + 0.5 * 3 = 4
      const out = combineLosses(parts, { mlm: 0.5, mim: 0 });
      expect(out.loss.dataSync()[0]).toBe(4);
      expect(Object.keys(out.parts)).toEqual(['itc', 'itm', 'mlm']);
      expect(out.weighted.mlm?.dataSync()[0]).toBe(1.5);
      expect(out.weighted.itm?.dataSync()[0]).toBe(0.5);
      // No weights at all: the plain sum 2 + 0.5 + 3.
      expect(combineLosses(parts).loss.dataSync()[0]).toBe(5.5);
    });
  });

  it('leaves a part with weight 0 out of the loss and of the reported parts', () => {
    tf.tidy(() => {
      const out = combineLosses({ itc: tf.scalar(2), itm: tf.scalar(7) }, { itm: 0 });
      expect(out.loss.dataSync()[0]).toBe(2);
      expect(Object.keys(out.parts)).toEqual(['itc']);
    });
  });

  it('passes gradients through the weights', () => {
    const x = tf.scalar(3);
    // d/dx (1 * 1.5 + 2 x^2) = 4x = 12
    const g = tf.grad((v: tf.Tensor) => combineLosses({ itc: tf.scalar(1.5), mlm: tf.mul(v, v) as tf.Scalar }, { mlm: 2 }).loss)(x);
    expect(g.dataSync()[0]).toBe(12);
    tf.dispose([x, g]);
  });

  it('rejects a weight for a part that is not there, a non-scalar part, and nothing to count', () => {
    tf.tidy(() => {
      expect(() => combineLosses({ itc: tf.scalar(1) }, { itm: 1 }, 'train.lossWeights')).toThrow(
        /train\.lossWeights names unknown loss parts: itm \(the loss returns: itc\)/,
      );
      expect(code(() => combineLosses({ itc: tf.scalar(1) }, { itm: 1 }))).toBe('E_CONFIG');
      expect(code(() => combineLosses({ itc: tf.zeros([2]) as tf.Scalar }))).toBe('E_INPUT');
      expect(code(() => combineLosses({ itc: tf.scalar(1) }, { itc: 0 }))).toBe('E_INPUT');
      expect(code(() => combineLosses({}))).toBe('E_INPUT');
    });
  });

  it('leaks no tensors', () => {
    const parts = { a: tf.scalar(1), b: tf.scalar(2) };
    const before = tf.memory().numTensors;
    const out = combineLosses(parts, { b: 3 });
    expect(tf.memory().numTensors).toBe(before + 1 + 2 + 2);
    tf.dispose([out.loss, ...Object.values(out.parts), ...Object.values(out.weighted), ...Object.values(parts)]);
  });
});
