import { initBackend, SeededRandom, tf } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose, expectCode, Reference } from '../test/reference.js';
import { MaskedLanguageModeling, mlmLoss } from './mlmLoss.js';
import { maskTokens, wordIdsFromContinuation } from './mlmMasking.js';

let ref: Reference;
beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  ref = await Reference.load();
});

// A toy vocabulary: 0 [PAD], 1 [CLS], 2 [SEP], 3 [MASK], 4 [UNK], then 1000 regular tokens.
const PAD = 0;
const CLS = 1;
const SEP = 2;
const MASK = 3;
const SPECIAL = [PAD, CLS, SEP, MASK, 4];
const VOCAB = 1004;
const config = { maskTokenId: MASK, vocabSize: VOCAB, specialTokenIds: SPECIAL };

/** [CLS] w... [SEP] [PAD]...: lengths vary so padding and rounding both occur. */
function makeBatch(rng: SeededRandom, batch: number, seqLen: number): Int32Array {
  const ids = new Int32Array(batch * seqLen).fill(PAD);
  for (let b = 0; b < batch; b++) {
    const len = 8 + rng.int(seqLen - 9);
    ids[b * seqLen] = CLS;
    for (let s = 1; s <= len; s++) ids[b * seqLen + s] = 5 + rng.int(VOCAB - 5);
    ids[b * seqLen + len + 1] = SEP;
  }
  return ids;
}

describe('mlmLoss', () => {
  it('matches PyTorch cross_entropy(ignore_index=-100) and its gradient', () => {
    const logits = ref.tensor('mlm.in.logits');
    const labels = ref.tensor('mlm.in.labels');
    const out = mlmLoss({ logits, labels });
    expectClose(out.loss, ref, 'mlm.loss');
    expectClose(out.accuracy, ref, 'mlm.accuracy');
    expect(out.count).toBe(4);
    const grad = tf.grad((x: tf.Tensor) => mlmLoss({ logits: x, labels }).loss)(logits);
    expectClose(grad, ref, 'mlm.grad.logits');
    tf.dispose([logits, labels, out, grad]);
  });
});

describe('mlmLoss edge cases', () => {
  it('gives 0 with zero gradient when no position is predicted', () => {
    const logits = tf.randomNormal([2, 3, 7], 0, 1, 'float32', 1);
    const labels = tf.fill([2, 3], -100, 'int32');
    const out = mlmLoss({ logits, labels });
    expect(out.loss.dataSync()[0]).toBe(0);
    expect(out.count).toBe(0);
    const g = tf.grad((x: tf.Tensor) => mlmLoss({ logits: x, labels }).loss)(logits);
    expect(Array.from(g.dataSync()).every((v) => v === 0)).toBe(true);
    tf.dispose([logits, labels, out, g]);
  });
});

describe('mlmLoss with ALBEF momentum distillation', () => {
  it('matches PyTorch (1 - alpha) * CE + alpha * soft CE and its gradient, none into the momentum logits', () => {
    const [logits, momentumLogits, labels] = ['logits', 'momentum_logits', 'labels'].map((k) => ref.tensor(`mlm_distill.in.${k}`)) as [
      tf.Tensor,
      tf.Tensor,
      tf.Tensor,
    ];
    const f = (x: tf.Tensor, m: tf.Tensor) => mlmLoss({ logits: x, labels, momentumLogits: m, alpha: 0.4 });
    const out = f(logits, momentumLogits);
    expectClose(out.loss, ref, 'mlm_distill.loss');
    expectClose(out.distillLoss, ref, 'mlm_distill.distill');
    const [gx, gm] = tf.grads((x: tf.Tensor, m: tf.Tensor) => f(x, m).loss)([logits, momentumLogits]);
    expectClose(gx as tf.Tensor, ref, 'mlm_distill.grad.logits');
    expect(tf.max(tf.abs(gm as tf.Tensor)).dataSync()[0]).toBe(0);
    expectCode(() => mlmLoss({ logits, labels, alpha: 0.4 }), 'E_INPUT');
    tf.dispose([logits, momentumLogits, labels, out, gx, gm]);
  });
});

describe('BERT masking', () => {
  it('over 100k maskable tokens: 15 % predicted, split 80/10/10 (within 1 point), never a special token', () => {
    const rng = new SeededRandom(2024);
    const [batch, seqLen] = [1600, 128];
    const ids = makeBatch(rng, batch, seqLen);
    const out = maskTokens(ids, [batch, seqLen], config, rng.fork('mask'));
    const { maskable, predicted, replacedWithMask, replacedWithRandom, kept } = out.counts;
    expect(maskable).toBeGreaterThanOrEqual(100_000); // 100k maskable tokens, beside [CLS]/[SEP]/padding
    expect(Math.abs(predicted / maskable - 0.15)).toBeLessThan(0.01);
    expect(Math.abs(replacedWithMask / predicted - 0.8)).toBeLessThan(0.01);
    expect(Math.abs(replacedWithRandom / predicted - 0.1)).toBeLessThan(0.01);
    expect(Math.abs(kept / predicted - 0.1)).toBeLessThan(0.01);
    // Recount from the arrays themselves rather than trusting the counters.
    const problems = { changedUnlabelled: 0, specialPredicted: 0, wrongLabel: 0, specialReplacement: 0 };
    let recount = 0;
    for (let i = 0; i < ids.length; i++) {
      const original = ids[i] as number;
      const now = out.inputIds[i] as number;
      if (out.labels[i] === -100) {
        if (now !== original) problems.changedUnlabelled++;
        continue;
      }
      recount++;
      if (SPECIAL.includes(original)) problems.specialPredicted++;
      if (out.labels[i] !== original) problems.wrongLabel++;
      if (now !== MASK && SPECIAL.includes(now)) problems.specialReplacement++; // random replacements are regular tokens
    }
    expect(problems).toEqual({ changedUnlabelled: 0, specialPredicted: 0, wrongLabel: 0, specialReplacement: 0 });
    expect(recount).toBe(predicted);
  });

  it('whole-word masking predicts every sub-token of a chosen word and no other', () => {
    const rng = new SeededRandom(5);
    const [batch, seqLen] = [200, 64];
    const ids = makeBatch(rng, batch, seqLen);
    // Toy rule: even regular ids continue the previous word (like WordPiece "##").
    const isContinuation = (id: number) => id >= 5 && id % 2 === 0;
    const words = wordIdsFromContinuation(ids, [batch, seqLen], isContinuation);
    const out = maskTokens(ids, [batch, seqLen], { ...config, wholeWord: true }, rng, words);
    const state = new Map<string, Set<boolean>>();
    for (let i = 0; i < ids.length; i++) {
      if (SPECIAL.includes(ids[i] as number)) continue;
      const key = `${Math.floor(i / seqLen)}:${words[i]}`;
      const set = state.get(key) ?? new Set<boolean>();
      set.add(out.labels[i] !== -100);
      state.set(key, set);
    }
    const partial = [...state.values()].filter((s) => s.size > 1).length;
    expect(partial).toBe(0);
    expect(Math.abs(out.counts.predicted / out.counts.maskable - 0.15)).toBeLessThan(0.01);
  });

  it('is reproducible from the seed, and rejects ids outside the vocabulary', () => {
    const ids = makeBatch(new SeededRandom(1), 4, 32);
    const a = maskTokens(ids, [4, 32], config, new SeededRandom(9));
    const b = maskTokens(ids, [4, 32], config, new SeededRandom(9));
    expect(a.inputIds).toEqual(b.inputIds);
    const bad = Int32Array.from(ids);
    bad[3] = VOCAB;
    expect(() => maskTokens(bad, [4, 32], config, new SeededRandom(9))).toThrow(/outside the vocabulary/);
    expectCode(() => maskTokens(ids, [4, 32], { ...config, wholeWord: true }, new SeededRandom(9)), 'E_INPUT');
    expectCode(() => maskTokens(ids, [4, 32], { ...config, maskProbability: 1.5 }, new SeededRandom(9)), 'E_CONFIG');
  });

  it('MaskedLanguageModeling masks a tensor and scores logits in one config', () => {
    const mlm = new MaskedLanguageModeling(config);
    expect(() => new MaskedLanguageModeling({ ...config, maskReplaceProbability: 0.95 })).toThrow(/at most 1/);
    const ids = tf.tensor2d(makeBatch(new SeededRandom(3), 2, 16), [2, 16], 'int32');
    const masked = mlm.mask(ids, new SeededRandom(4));
    expect(masked.inputIds.shape).toEqual([2, 16]);
    // Logits that put all mass on the label give zero loss and full accuracy.
    const labels = masked.labels.dataSync();
    const onehot = tf.tidy(() => tf.mul(tf.oneHot(tf.maximum(masked.labels, tf.scalar(0, 'int32')) as tf.Tensor2D, VOCAB), 100));
    const out = mlm.loss(onehot, masked.labels);
    expect(out.count).toBe([...labels].filter((v) => v !== -100).length);
    expect(out.loss.dataSync()[0]).toBeLessThan(1e-6);
    expect(out.accuracy.dataSync()[0]).toBe(1);
    tf.dispose([ids, masked.inputIds, masked.labels, onehot, out.loss, out.accuracy]);
  });
});
