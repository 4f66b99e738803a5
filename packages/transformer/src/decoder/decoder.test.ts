import { initBackend, SeededRandom, tf } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkAgainstTorch, expectClose, loadFixture } from '../../test/fixtures.js';
import { Decoder, type DecoderCache, disposeCache } from './decoder.js';

describe('Decoder', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  for (const variant of ['tied', 'untied']) {
    it(`matches PyTorch (${variant} output embedding): logits and gradients`, async () => {
      const fx = await loadFixture(`decoder_${variant}`);
      const dec = new Decoder({ ...fx.config, rng: new SeededRandom(1) } as never);
      expect(dec.namedParameters().has('lm_head.weight')).toBe(variant === 'untied');
      expect(dec.namedParameters().has('decoder.layers.1.cross_attn.k_proj.weight')).toBe(true);
      dec.loadStateDict(fx.params());
      checkAgainstTorch(fx, dec, ['ids', 'mask', 'enc', 'enc_mask'], ({ ids, mask, enc, enc_mask }) => ({
        logits: dec.forward(ids as tf.Tensor, { mask, encoderStates: enc, encoderMask: enc_mask }).logits,
      }));
      dec.dispose();
    });
  }

  it('the cached decoder gives the same logits as the uncached one, token by token', () => {
    const dec = new Decoder({ vocabSize: 13, maxPositions: 10, dim: 8, numHeads: 2, numLayers: 2, crossDim: 6, rng: new SeededRandom(2) });
    const rng = new SeededRandom(3);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const enc = tf.tensor(
        rng.array(2 * 4 * 6, (r) => r.normal()),
        [2, 4, 6],
      );
      const encMask = tf.tensor(
        [
          [1, 1, 1, 1],
          [1, 1, 0, 0],
        ],
        [2, 4],
        'int32',
      );
      const tokens = [
        [1, 5, 7, 2, 9, 4],
        [1, 3, 3, 8, 12, 0],
      ];
      const full = dec.forward(tf.tensor(tokens, [2, 6], 'int32'), { encoderStates: enc, encoderMask: encMask }).logits;
      let cache: DecoderCache | undefined;
      const steps: tf.Tensor[] = [];
      // A 2-token prefill, then one token at a time.
      for (const [start, size] of [
        [0, 2],
        [2, 1],
        [3, 1],
        [4, 1],
        [5, 1],
      ] as const) {
        const ids = tf.tensor(
          tokens.map((row) => row.slice(start, start + size)),
          [2, size],
          'int32',
        );
        const out = dec.forward(ids, { encoderStates: enc, encoderMask: encMask, cache, useCache: true });
        steps.push(out.logits);
        disposeCache(cache, out.cache);
        cache = out.cache;
      }
      expect(cache?.length).toBe(6);
      expectClose(tf.concat(steps, 1), full, 'cached vs uncached logits', 1e-5);
      disposeCache(cache);
    });
    expect(tf.memory().numTensors).toBe(before);
    dec.dispose();
  });

  it('keeps the tensor count flat over 20 training steps', () => {
    const dec = new Decoder({ vocabSize: 13, maxPositions: 10, dim: 8, numHeads: 2, numLayers: 2, dropout: 0.1, rng: new SeededRandom(4) });
    const optimizer = tf.train.adam(1e-2);
    const ids = tf.tensor(
      [
        [1, 5, 7, 2, 9],
        [1, 3, 3, 8, 12],
      ],
      [2, 5],
      'int32',
    );
    const targets = tf.oneHot(
      tf.tensor(
        [
          [5, 7, 2, 9, 0],
          [3, 3, 8, 12, 0],
        ],
        [2, 5],
        'int32',
      ),
      13,
    );
    const enc = tf.randomNormal([2, 3, 8]);
    const counts: number[] = [];
    const losses: number[] = [];
    for (let step = 0; step < 20; step++) {
      const loss = optimizer.minimize(
        () => tf.losses.softmaxCrossEntropy(targets, dec.forward(ids, { encoderStates: enc }).logits) as tf.Scalar,
        true,
        dec.trainableVariables(),
      ) as tf.Scalar;
      losses.push(loss.dataSync()[0] as number);
      loss.dispose();
      counts.push(tf.memory().numTensors);
    }
    expect(new Set(counts.slice(1)).size).toBe(1);
    expect(losses[19]).toBeLessThan(losses[0] as number);
    optimizer.dispose();
    tf.dispose([ids, targets, enc]);
    dec.dispose();
  });

  it('needs encoder states when it has cross-attention, and positions within maxPositions', () => {
    const dec = new Decoder({ vocabSize: 5, maxPositions: 3, dim: 4, numHeads: 1, numLayers: 1, rng: new SeededRandom(1) });
    const ids = tf.tensor([[1, 2, 3, 4]], [1, 4], 'int32');
    expect(() => dec.forward(ids)).toThrow(/encoderStates/);
    const enc = tf.zeros([1, 2, 4]);
    expect(() => dec.forward(ids, { encoderStates: enc })).toThrow(/maxPositions/);
    tf.dispose([ids, enc]);
    dec.dispose();
  });
});
