import { initBackend, SeededRandom, tf } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { TINY_ALBEF, tinyBatch } from '../test/tiny.js';
import type { FusionModel } from './fusionModel.js';
import { createModel } from './registry.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

const SPECIAL = { specialTokenIds: [0, 1, 2, 3, 4], maskTokenId: 4 };

describe('FusionModel (ALBEF)', () => {
  it('computes ITC, ITM and MLM with their weighted sum, without leaking tensors', () => {
    const { model } = createModel(TINY_ALBEF);
    const m = model as FusionModel;
    const b = tinyBatch(4, 8, 6, 20, 2);
    const before = tf.memory().numTensors;
    const out = m.forward({ ...b, ...SPECIAL }, new SeededRandom(0));
    const v = (t: tf.Scalar) => t.dataSync()[0] as number;
    expect(v(out.loss)).toBeCloseTo(v(out.itc) + v(out.itm) + v(out.mlm), 4);
    // Untrained: ITM on 1 positive to 2 negatives is near ln 2 per pair; MLM near ln(vocab 20).
    expect(v(out.itm)).toBeGreaterThan(0.3);
    expect(v(out.itm)).toBeLessThan(1.5);
    expect(v(out.mlm)).toBeGreaterThan(Math.log(20) - 1);
    expect(v(out.mlm)).toBeLessThan(Math.log(20) + 1);
    tf.dispose(out as unknown as tf.TensorContainer);
    expect(tf.memory().numTensors).toBe(before);
    const logits = m.matchLogits(b.images, b.ids, b.mask);
    expect(logits.shape).toEqual([4, 2]);
    const emb = m.encodeText(b.ids, b.mask);
    expect(emb.shape).toEqual([4, 8]);
    tf.dispose([logits, emb, b.images, b.ids, b.mask]);
    m.dispose();
  });

  it('loss decreases on a tiny batch over a few steps', () => {
    const { model } = createModel(TINY_ALBEF);
    const m = model as FusionModel;
    const b = tinyBatch(4, 8, 6, 20, 3);
    const optimizer = tf.train.adam(3e-3);
    const losses: number[] = [];
    for (let step = 0; step < 15; step++) {
      // The same masks and negatives each step, so the objective is fixed.
      const rng = new SeededRandom(7);
      const cost = optimizer.minimize(() => m.forward({ ...b, ...SPECIAL }, rng).loss, true, m.trainableVariables()) as tf.Scalar;
      losses.push(cost.dataSync()[0] as number);
      cost.dispose();
    }
    expect(losses[losses.length - 1]).toBeLessThan(losses[0]! * 0.7);
    optimizer.dispose();
    tf.dispose([b.images, b.ids, b.mask]);
    m.dispose();
  });

  it('rejects a batch of one pair and a causal text tower', () => {
    const { model } = createModel(TINY_ALBEF);
    const b = tinyBatch(1, 8, 6);
    expect(() => (model as FusionModel).forward({ ...b, ...SPECIAL }, new SeededRandom(0))).toThrow(/at least 2/);
    tf.dispose([b.images, b.ids, b.mask]);
    model.dispose();
    expect(() => createModel({ ...TINY_ALBEF, text: { ...(TINY_ALBEF as { text: object }).text, causal: true } } as never)).toThrow(
      /bidirectional/,
    );
  });
});
