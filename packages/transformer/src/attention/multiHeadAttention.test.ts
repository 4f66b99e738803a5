import { initBackend, SeededRandom, tf } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkAgainstTorch, loadFixture } from '../../test/fixtures.js';
import { causalBias, MASKED } from './masks.js';
import { MultiHeadAttention } from './multiHeadAttention.js';

describe('MultiHeadAttention', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  it('self-attention with padding mask, causal mask and additive bias matches PyTorch (outputs, weights, gradients)', async () => {
    const fx = await loadFixture('mha_self');
    const mha = new MultiHeadAttention({ ...fx.config, rng: new SeededRandom(1) } as never);
    expect([...mha.namedParameters().keys()]).toEqual([
      'q_proj.weight',
      'q_proj.bias',
      'k_proj.weight',
      'k_proj.bias',
      'v_proj.weight',
      'v_proj.bias',
      'out_proj.weight',
      'out_proj.bias',
    ]);
    mha.loadStateDict(fx.params());
    checkAgainstTorch(fx, mha, ['x', 'mask', 'bias'], ({ x, mask, bias }) => {
      const r = mha.forward(x as tf.Tensor, { keyPaddingMask: mask, causal: true, bias, returnWeights: true });
      return { y: r.output, weights: r.weights as tf.Tensor };
    });
    mha.dispose();
  });

  it('cross-attention from a source of another width matches PyTorch', async () => {
    const fx = await loadFixture('mha_cross');
    const mha = new MultiHeadAttention({ ...fx.config, rng: new SeededRandom(1) } as never);
    mha.loadStateDict(fx.params());
    checkAgainstTorch(fx, mha, ['x', 'kv', 'mask'], ({ x, kv, mask }) => ({
      y: mha.forward(x as tf.Tensor, { keyValue: kv, keyPaddingMask: mask }).output,
    }));
    mha.dispose();
  });

  it('padded keys do not change the outputs at real positions', () => {
    const mha = new MultiHeadAttention({ dim: 8, numHeads: 2, rng: new SeededRandom(3) });
    const rng = new SeededRandom(4);
    tf.tidy(() => {
      const x = tf.tensor(
        rng.array(1 * 4 * 8, (r) => r.normal()),
        [1, 4, 8],
      );
      const junk = tf.tensor(
        rng.array(1 * 3 * 8, (r) => r.normal(0, 5)),
        [1, 3, 8],
      );
      const short = mha.forward(x).output;
      const padded = mha.forward(tf.concat([x, junk], 1), { keyPaddingMask: tf.tensor([[1, 1, 1, 1, 0, 0, 0]]) }).output;
      const diff = tf.max(tf.abs(tf.sub(tf.slice(padded, [0, 0, 0], [1, 4, 8]), short))).dataSync()[0] as number;
      expect(diff).toBeLessThan(1e-6);
    });
    mha.dispose();
  });

  it('causal: the output at step t does not depend on inputs after t', () => {
    const mha = new MultiHeadAttention({ dim: 8, numHeads: 2, rng: new SeededRandom(5) });
    const rng = new SeededRandom(6);
    tf.tidy(() => {
      const x = tf.tensor(
        rng.array(2 * 6 * 8, (r) => r.normal()),
        [2, 6, 8],
      );
      const changed = tf.concat([tf.slice(x, [0, 0, 0], [2, 3, 8]), tf.mul(tf.slice(x, [0, 3, 0], [2, 3, 8]), -7)], 1);
      const a = tf.slice(mha.forward(x, { causal: true }).output, [0, 0, 0], [2, 3, 8]);
      const b = tf.slice(mha.forward(changed, { causal: true }).output, [0, 0, 0], [2, 3, 8]);
      expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBeLessThan(1e-6);
      // ...and without the mask it does.
      const c = tf.slice(mha.forward(changed).output, [0, 0, 0], [2, 3, 8]);
      expect(tf.max(tf.abs(tf.sub(a, c))).dataSync()[0]).toBeGreaterThan(1e-3);
    });
    mha.dispose();
  });

  it('incremental self-attention with cached keys equals one full causal pass', () => {
    const mha = new MultiHeadAttention({ dim: 8, numHeads: 4, rng: new SeededRandom(7) });
    const rng = new SeededRandom(8);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const x = tf.tensor(
        rng.array(2 * 5 * 8, (r) => r.normal()),
        [2, 5, 8],
      );
      const full = mha.forward(x, { causal: true }).output;
      let past = mha.forward(tf.slice(x, [0, 0, 0], [2, 2, 8]), { causal: true, useCache: true }).present;
      const steps: tf.Tensor[] = [];
      for (let t = 2; t < 5; t++) {
        const r = mha.forward(tf.slice(x, [0, t, 0], [2, 1, 8]), { causal: true, past, useCache: true });
        steps.push(r.output);
        past = r.present;
      }
      expect(past?.key.shape).toEqual([2, 4, 2, 5]);
      expect(past?.value.shape).toEqual([2, 4, 5, 2]);
      const diff = tf.max(tf.abs(tf.sub(tf.concat(steps, 1), tf.slice(full, [0, 2, 0], [2, 3, 8]))));
      expect(diff.dataSync()[0]).toBeLessThan(1e-5);
    });
    expect(tf.memory().numTensors).toBe(before);
    mha.dispose();
  });

  it('rejects a mask of the wrong size and dim not divisible by heads', () => {
    expect(() => new MultiHeadAttention({ dim: 10, numHeads: 3, rng: new SeededRandom(1) })).toThrow(/numHeads/);
    const mha = new MultiHeadAttention({ dim: 4, numHeads: 2, rng: new SeededRandom(1) });
    const x = tf.zeros([1, 3, 4]);
    const mask = tf.ones([1, 2]);
    expect(() => mha.forward(x, { keyPaddingMask: mask })).toThrow(/keyPaddingMask must be \[1, 3\]/);
    const other = tf.zeros([2, 3, 4]);
    expect(() => mha.forward(x, { keyValue: other })).toThrow(/batch 1 and keyValue batch 2 differ/);
    // Causal with more queries than keys: E_SHAPE on the fused path (inference) and the plain one (weights asked for).
    const keys = tf.zeros([1, 2, 4]);
    for (const returnWeights of [false, true])
      expect(() => mha.forward(x, { keyValue: keys, causal: true, returnWeights })).toThrow(
        expect.objectContaining({ code: 'E_SHAPE', message: expect.stringContaining('at least as many keys (2) as queries (3)') }),
      );
    tf.dispose([x, mask, other, keys]);
    mha.dispose();
  });
});

describe('causalBias with a prefix (GIT: image tokens see each other, text sees the image and earlier text)', () => {
  it('opens the prefix block and keeps the rest causal, with and without cached keys', () => {
    const M = MASKED;
    const full = causalBias(4, 4, 2);
    expect(Array.from(full.dataSync())).toEqual([0, 0, M, M, 0, 0, M, M, 0, 0, 0, M, 0, 0, 0, 0]);
    // One new query after 4 cached keys sees them all; a prefix changes nothing there.
    const step = causalBias(1, 5, 2);
    expect(Array.from(step.dataSync())).toEqual([0, 0, 0, 0, 0]);
    tf.dispose([full, step]);
  });
});
