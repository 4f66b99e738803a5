import { initBackend, SeededRandom, tf } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Decoder } from '../decoder/decoder.js';
import { generate } from './generate.js';
import { applyRepetitionPenalty, applyTemperature, applyTopK, applyTopP, argmax } from './logitsProcessors.js';

const BOS = 0;
const EOS = 3;

/** log p(tokens | prefix) for each next token, by full (uncached) forward passes. */
function logProbs(dec: Decoder, enc: tf.Tensor, prefix: number[]): Float64Array {
  const last = tf.tidy(() => {
    const out = dec.forward(tf.tensor([prefix], [1, prefix.length], 'int32'), { encoderStates: enc });
    return tf.logSoftmax(tf.reshape(tf.slice(out.logits, [0, prefix.length - 1, 0], [1, 1, dec.config.vocabSize]), [-1]));
  });
  const values = Float64Array.from(last.dataSync());
  last.dispose();
  return values;
}

/** Every sequence up to maxLength (EOS only last), scored sum(log p) / length^lp: the best one. */
function bruteForceBest(dec: Decoder, enc: tf.Tensor, maxLength: number, lp: number): { tokens: number[]; score: number } {
  let best = { tokens: [] as number[], score: Number.NEGATIVE_INFINITY };
  const visit = (tokens: number[], sum: number) => {
    const lps = logProbs(dec, enc, [BOS, ...tokens]);
    for (let v = 0; v < lps.length; v++) {
      const next = [...tokens, v];
      const total = sum + (lps[v] as number);
      if (v === EOS || next.length === maxLength) {
        const score = total / next.length ** lp;
        if (score > best.score) best = { tokens: next, score };
      } else visit(next, total);
    }
  };
  visit([], 0);
  return best;
}

describe('logits processors (Hugging Face rules, hand-computed)', () => {
  it('repetition penalty divides positive and multiplies negative logits of seen tokens', () => {
    const row = Float32Array.from([2, -2, 1]);
    applyRepetitionPenalty(row, [0, 1, 1], 2);
    expect([...row]).toEqual([1, -4, 1]);
  });

  it('temperature, top-k, top-p', () => {
    const t = Float32Array.from([2, 4]);
    applyTemperature(t, 2);
    expect([...t]).toEqual([1, 2]);
    const k = Float32Array.from([1, 3, 2, 0]);
    applyTopK(k, 2);
    expect([...k]).toEqual([Number.NEGATIVE_INFINITY, 3, 2, Number.NEGATIVE_INFINITY]);
    const probs = [0.5, 0.3, 0.15, 0.05];
    const p = Float32Array.from(probs, Math.log);
    applyTopP(p, 0.75); // 0.5 + 0.3 >= 0.75: the two most likely stay
    expect([...p].map((v) => v > Number.NEGATIVE_INFINITY)).toEqual([true, true, false, false]);
    const q = Float32Array.from(probs, Math.log);
    applyTopP(q, 0.3); // the top token alone reaches 0.3
    expect([...q].map((v) => v > Number.NEGATIVE_INFINITY)).toEqual([true, false, false, false]);
    expect(argmax([1, 5, 5, 2])).toBe(1);
  });
});

describe('generate', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  const make = (seed: number) =>
    new Decoder({ vocabSize: 4, maxPositions: 8, dim: 8, numHeads: 2, numLayers: 1, std: 0.5, crossDim: 6, rng: new SeededRandom(seed) });
  const encoder = (batch: number, seed: number) => {
    const rng = new SeededRandom(seed);
    return tf.tensor(
      rng.array(batch * 3 * 6, (r) => r.normal()),
      [batch, 3, 6],
    );
  };

  it('greedy picks the argmax of the uncached model at every step; batched equals one by one', () => {
    const dec = make(1);
    const enc = encoder(2, 2);
    const before = tf.memory().numTensors;
    const result = generate(dec, { encoderStates: enc }, { bosTokenId: BOS, eosTokenId: EOS, maxNewTokens: 5 });
    expect(tf.memory().numTensors).toBe(before);
    for (let b = 0; b < 2; b++) {
      const one = tf.slice(enc, [b, 0, 0], [1, 3, 6]);
      const expected: number[] = [];
      while (expected.length < 5 && expected.at(-1) !== EOS) expected.push(argmax(logProbs(dec, one, [BOS, ...expected])));
      expect(result.sequences[b]).toEqual(expected);
      const single = generate(dec, { encoderStates: one }, { bosTokenId: BOS, eosTokenId: EOS, maxNewTokens: 5 });
      expect(single.sequences[0]).toEqual(expected);
      one.dispose();
    }
    enc.dispose();
    dec.dispose();
  });

  for (const lengthPenalty of [0, 1]) {
    it(`beam search wide enough to be exhaustive finds the best sequence (length penalty ${lengthPenalty}), batched`, () => {
      const dec = make(3);
      const enc = encoder(2, 4);
      const before = tf.memory().numTensors;
      const result = generate(
        dec,
        { encoderStates: enc },
        { strategy: 'beam', numBeams: 9, lengthPenalty, bosTokenId: BOS, eosTokenId: EOS, maxNewTokens: 3 },
      );
      expect(tf.memory().numTensors).toBe(before);
      for (let b = 0; b < 2; b++) {
        const one = tf.slice(enc, [b, 0, 0], [1, 3, 6]);
        const best = bruteForceBest(dec, one, 3, lengthPenalty);
        expect(result.sequences[b]).toEqual(best.tokens);
        expect(result.scores[b]).toBeCloseTo(best.score, 4);
        one.dispose();
      }
      enc.dispose();
      dec.dispose();
    });
  }

  describe('with a decoder whose logits are fixed: token t scores c[t]', () => {
    const c = [1, 0.9, 0.8, 0.1, 0.2, 5]; // EOS = 5 dominates
    const fixed = () => {
      const dec = new Decoder({
        vocabSize: 6,
        maxPositions: 12,
        dim: 4,
        numHeads: 1,
        numLayers: 1,
        crossAttention: false,
        tieWordEmbeddings: false,
        rng: new SeededRandom(5),
      });
      const ln = dec.final_layer_norm as NonNullable<Decoder['final_layer_norm']>;
      ln.weight.assign(tf.zeros([4]));
      ln.bias.assign(tf.tensor([1, 0, 0, 0]));
      const head = dec.lm_head as NonNullable<Decoder['lm_head']>;
      head.weight.assign(tf.tensor2d(c.map((v) => [v, 0, 0, 0])));
      return dec;
    };

    it('stops at EOS, respects minNewTokens, applies the repetition penalty', () => {
      const dec = fixed();
      const base = { bosTokenId: 4, eosTokenId: 5, maxNewTokens: 6 };
      const two = { batchSize: 2 };
      expect(generate(dec, two, base).sequences).toEqual([[5], [5]]);
      expect(generate(dec, two, { ...base, minNewTokens: 3 }).sequences[1]).toEqual([0, 0, 0, 5]);
      // Step 2: token 0 falls to 0.5, so 1 (0.9) wins; step 3: 0 -> 0.5, 1 -> 0.45, so 2 (0.8).
      expect(generate(dec, {}, { ...base, minNewTokens: 3, repetitionPenalty: 2 }).sequences[0]).toEqual([0, 1, 2, 5]);
      expect(generate(dec, {}, { ...base, minNewTokens: 6 }).sequences[0]).toEqual([0, 0, 0, 0, 0, 0]);
      dec.dispose();
    });

    it('allowedTokenIds: only those tokens (and EOS) are generated, by greedy and beam search alike', () => {
      const dec = fixed();
      const base = { bosTokenId: 4, eosTokenId: 5, maxNewTokens: 6, minNewTokens: 3, allowedTokenIds: [2, 3] };
      // Tokens 0 and 1 score highest but are ruled out: 2 (0.8) wins each step until EOS may end it.
      expect(generate(dec, {}, base).sequences[0]).toEqual([2, 2, 2, 5]);
      expect(generate(dec, {}, { ...base, strategy: 'beam', numBeams: 2 }).sequences[0]).toEqual([2, 2, 2, 5]);
      expect(() => generate(dec, {}, { ...base, allowedTokenIds: [6] })).toThrow(/outside the vocabulary of 6/);
      // Only EOS allowed while minNewTokens rules it out: a config error for both strategies, not a TypeError.
      for (const strategy of ['greedy', 'beam'] as const)
        expect(() => generate(dec, {}, { ...base, strategy, allowedTokenIds: [5] })).toThrow(
          expect.objectContaining({ code: 'E_CONFIG', message: expect.stringContaining('allows only EOS') }),
        );
      // Logits that are not finite leave beam search no candidate at all: a clear error, not a TypeError.
      const head = dec.lm_head as NonNullable<Decoder['lm_head']>;
      head.weight.assign(tf.fill([6, 4], Number.NaN));
      expect(() => generate(dec, {}, { ...base, strategy: 'beam', numBeams: 2 })).toThrow(
        expect.objectContaining({ code: 'E_INPUT', message: expect.stringContaining('no finite-scoring sequence') }),
      );
      dec.dispose();
    });

    it('sampling: top-k 1 is greedy; top-k 2 samples the two best at their softmax ratio; reproducible by seed', () => {
      const dec = fixed();
      const base = { strategy: 'sample' as const, bosTokenId: 4, eosTokenId: 5, minNewTokens: 1, maxNewTokens: 1 };
      const greedyish = generate(dec, { batchSize: 8 }, { ...base, topK: 1, rng: new SeededRandom(1) });
      expect(greedyish.sequences.every((s) => s[0] === 0)).toBe(true);
      const n = 2000;
      const sampled = generate(dec, { batchSize: n }, { ...base, topK: 2, rng: new SeededRandom(2) });
      const zeros = sampled.sequences.filter((s) => s[0] === 0).length;
      expect(sampled.sequences.every((s) => s[0] === 0 || s[0] === 1)).toBe(true);
      const p0 = 1 / (1 + Math.exp(0.9 - 1)); // softmax over {1, 0.9}: 0.525
      expect(Math.abs(zeros / n - p0)).toBeLessThan(0.035);
      // Temperature 0.1 sharpens to exp(1)/(1+exp(1)) = 0.73 for token 0.
      const cold = generate(dec, { batchSize: n }, { ...base, topK: 2, temperature: 0.1, rng: new SeededRandom(2) });
      expect(Math.abs(cold.sequences.filter((s) => s[0] === 0).length / n - 1 / (1 + Math.exp(-1)))).toBeLessThan(0.035);
      const again = generate(dec, { batchSize: n }, { ...base, topK: 2, rng: new SeededRandom(2) });
      expect(again.sequences).toEqual(sampled.sequences);
      dec.dispose();
    });

    it('rejects bad settings with typed errors', () => {
      const dec = fixed();
      expect(() => generate(dec, {}, { strategy: 'sample', bosTokenId: 4, eosTokenId: 5 })).toThrow(/rng/);
      expect(() => generate(dec, {}, { bosTokenId: 4, eosTokenId: 5, maxNewTokens: 20 })).toThrow(/maxPositions/);
      expect(() => generate(dec, { prompts: [[4], [4, 1]] }, { bosTokenId: 4, eosTokenId: 5 })).toThrow(/equal length/);
      dec.dispose();
    });
  });
});
