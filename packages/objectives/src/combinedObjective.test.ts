import { initBackend, tf } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectCode } from '../test/reference.js';
import { CombinedObjective } from './combinedObjective.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

describe('CombinedObjective', () => {
  it('sums weighted parts, reports each, and passes gradients through the weights', () => {
    const objective = new CombinedObjective({ weights: { contrastive: 1, itm: 0.5, mlm: 2, mim: 0 } });
    expect(objective.activeParts).toEqual(['contrastive', 'itm', 'mlm']);
    const x = tf.scalar(3);
    const out = objective.forward({ contrastive: tf.scalar(1.5), itm: tf.scalar(0.7), mlm: tf.mul(x, x) as tf.Scalar });
    // 1 * 1.5 + 0.5 * 0.7 + 2 * 9 = 19.85
    expect(out.loss.dataSync()[0]).toBeCloseTo(19.85, 5);
    expect(out.parts.mlm?.dataSync()[0]).toBe(9);
    expect(out.weighted.itm?.dataSync()[0]).toBeCloseTo(0.35, 6);
    expect(Object.keys(out.parts)).toEqual(['contrastive', 'itm', 'mlm']);
    // d/dx (2 x^2) = 4x = 12
    const g = tf.grad(
      (v: tf.Tensor) => objective.forward({ contrastive: tf.scalar(0), itm: tf.scalar(0), mlm: tf.mul(v, v) as tf.Scalar }).loss,
    )(x);
    expect(g.dataSync()[0]).toBeCloseTo(12, 5);
  });

  it('counts a part without a weight with weight 1, and skips absent parts of weight 0', () => {
    const objective = new CombinedObjective({ weights: { contrastive: 1, itm: 0.5, mim: 0 } });
    // mlm has no weight -> 1; mim is off and not passed: 1 * 1.5 + 0.5 * 0.7 + 1 * 2 = 3.85
    const out = objective.forward({ contrastive: tf.scalar(1.5), itm: tf.scalar(0.7), mlm: tf.scalar(2) });
    expect(out.loss.dataSync()[0]).toBeCloseTo(3.85, 6);
    expect(out.weighted.mlm?.dataSync()[0]).toBe(2);
    expect(Object.keys(out.parts)).toEqual(['contrastive', 'itm', 'mlm']);
  });

  it('names missing parts, non-scalar parts and bad weights', () => {
    const objective = new CombinedObjective({ weights: { contrastive: 1, itm: 1 } });
    expect(() => objective.forward({ contrastive: tf.scalar(1) })).toThrow(/CombinedObjective weights names unknown loss parts: itm/);
    expectCode(() => objective.forward({ contrastive: tf.scalar(1) }), 'E_CONFIG');
    expectCode(() => objective.forward({ contrastive: tf.scalar(1), itm: tf.zeros([2]) as tf.Scalar }), 'E_INPUT');
    expectCode(() => new CombinedObjective({ weights: { itm: -1 } }), 'E_CONFIG');
    expectCode(() => new CombinedObjective({ weights: { itm: 0 } }), 'E_CONFIG');
    expectCode(() => new CombinedObjective({ weights: { itm: 1 }, extra: true } as never), 'E_CONFIG');
  });
});
