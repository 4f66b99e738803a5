import { initBackend, SeededRandom, tf } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectCode } from '../test/reference.js';
import { shuffleWordOrder, TextDenoising } from './textDenoising.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

// [CLS]=1 [SEP]=2 [PAD]=0; words: "the"(10) "cat"(11 12) "sat"(13) "down"(14 15 16); word ids per token.
const ids = [1, 10, 11, 12, 13, 14, 15, 16, 2, 0];
const words = [-1, 0, 1, 1, 2, 3, 3, 3, -1, -1];
const special = [0, 1, 2];

function wordsOf(seq: Int32Array): string[] {
  // Split back into words by the known vocabulary of this toy sentence.
  const table: Record<number, string> = { 10: 'the', 11: 'cat', 13: 'sat', 14: 'down' };
  return [...seq].filter((id) => table[id] !== undefined).map((id) => table[id] as string);
}

describe('shuffleWordOrder', () => {
  it('permutes whole words, keeps sub-tokens together and special tokens in place', () => {
    const rng = new SeededRandom(3);
    const orders = new Set<string>();
    for (let trial = 0; trial < 200; trial++) {
      const out = shuffleWordOrder(ids, words, [1, 10], rng, { specialTokenIds: special });
      expect([out[0], out[8], out[9]]).toEqual([1, 2, 0]);
      expect([...out].sort((a, b) => a - b)).toEqual([...ids].sort((a, b) => a - b));
      const seq = [...out];
      expect(seq[seq.indexOf(11) + 1]).toBe(12);
      expect(seq.slice(seq.indexOf(14), seq.indexOf(14) + 3)).toEqual([14, 15, 16]);
      orders.add(wordsOf(out).join(' '));
    }
    expect(orders.size).toBe(24); // all 4! word orders occur
  });

  it('with maxDistance k moves no word more than k places', () => {
    const rng = new SeededRandom(4);
    const n = 12;
    const seq = Array.from({ length: n }, (_, i) => 100 + i);
    const wordIds = Array.from({ length: n }, (_, i) => i);
    let moved = 0;
    for (let trial = 0; trial < 300; trial++) {
      const out = shuffleWordOrder(seq, wordIds, [1, n], rng, { specialTokenIds: [], maxDistance: 2 });
      out.forEach((id, pos) => {
        expect(Math.abs(id - 100 - pos)).toBeLessThanOrEqual(2);
        if (id - 100 !== pos) moved++;
      });
    }
    expect(moved).toBeGreaterThan(0);
    const once = shuffleWordOrder(seq, wordIds, [1, n], new SeededRandom(8), { specialTokenIds: [], maxDistance: 0 });
    expect([...once]).toEqual(seq);
  });

  it('is reproducible from the seed and rejects mismatched shapes', () => {
    const a = shuffleWordOrder(ids, words, [1, 10], new SeededRandom(5), { specialTokenIds: special });
    const b = shuffleWordOrder(ids, words, [1, 10], new SeededRandom(5), { specialTokenIds: special });
    expect(a).toEqual(b);
    expectCode(() => shuffleWordOrder(ids, words.slice(1), [1, 10], new SeededRandom(5), { specialTokenIds: special }), 'E_INPUT');
  });
});

describe('TextDenoising', () => {
  it('noises a tensor batch and scores a perfect reconstruction at zero loss', () => {
    const denoise = new TextDenoising({ specialTokenIds: special, padTokenId: 0 });
    const input = tf.tensor2d([ids], [1, 10], 'int32');
    const noisy = denoise.noise(input, tf.tensor2d([words], [1, 10], 'int32'), new SeededRandom(6));
    expect([...noisy.dataSync()].sort((a, b) => a - b)).toEqual([...ids].sort((a, b) => a - b));
    const perfect = tf.mul(tf.oneHot(input, 20), 50);
    const out = denoise.loss(perfect, input);
    expect(out.loss.dataSync()[0]).toBeLessThan(1e-6);
    expect(out.count).toBe(9); // the one padding position does not count
    tf.dispose([input, noisy, perfect, out.loss, out.accuracy]);
  });
});
