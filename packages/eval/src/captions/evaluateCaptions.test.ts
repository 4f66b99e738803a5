import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isTesseraError } from '@tessera/base';
import { describe, expect, it } from 'vitest';
import { bleu } from './bleu.js';
import { evaluateCaptions } from './evaluateCaptions.js';
import { longestCommonSubsequence, rougeLSentence } from './rouge.js';
import { tokenizeCaption } from './tokenizeCaption.js';

const reference = JSON.parse(readFileSync(path.join(import.meta.dirname, '../../test/fixtures/reference.json'), 'utf8')).captions;

describe('caption metrics (COCO caption evaluation definitions)', () => {
  it('tokenises like the reference: lowercase, punctuation and contractions, CJK per character', () => {
    for (const item of reference.items) {
      expect(tokenizeCaption(item.candidate)).toEqual(reference.tokens[item.id].candidate);
      expect(item.references.map(tokenizeCaption)).toEqual(reference.tokens[item.id].references);
    }
  });

  it('matches the reference BLEU-1..4, ROUGE-L and CIDEr-D to 1e-6, corpus and per item', () => {
    const scores = evaluateCaptions(reference.items);
    const bleus = [scores.bleu1, scores.bleu2, scores.bleu3, scores.bleu4];
    for (const [k, b] of bleus.entries()) expect(Math.abs(b - reference.bleu[k])).toBeLessThan(1e-6);
    expect(Math.abs(scores.rougeL - reference.rougeL)).toBeLessThan(1e-6);
    expect(Math.abs(scores.ciderD - reference.ciderD)).toBeLessThan(1e-6);
    for (const [i, p] of scores.perItem.entries()) {
      expect(Math.abs(p.rougeL - reference.rougeLPerItem[i])).toBeLessThan(1e-6);
      expect(Math.abs(p.ciderD - reference.ciderDPerItem[i])).toBeLessThan(1e-6);
    }
  });

  it('gives hand-computed values on small cases', () => {
    // identical candidate and reference: every precision 1, no brevity penalty
    for (const v of bleu([['a', 'b', 'c', 'd']], [[['a', 'b', 'c', 'd']]])) expect(v).toBeCloseTo(1, 8);
    // BLEU-1 of "the the the" vs "the cat": clipped 1/3, brevity: c=3 >= r=2 so none
    expect(bleu([['the', 'the', 'the']], [[['the', 'cat']]])[0]).toBeCloseTo(1 / 3, 9);
    // LCS("a b c d e", "a c e") = 3; P = 3/3, R = 3/5; F = (1+1.44) P R / (R + 1.44 P)
    expect(longestCommonSubsequence(['a', 'b', 'c', 'd', 'e'], ['a', 'c', 'e'])).toBe(3);
    expect(rougeLSentence(['a', 'c', 'e'], [['a', 'b', 'c', 'd', 'e']])).toBeCloseTo((2.44 * 1 * 0.6) / (0.6 + 1.44), 12);
  });

  it('rejects items without references, duplicate ids and empty corpora', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return isTesseraError(e) ? e.code : 'not a TesseraError';
      }
      return 'no error';
    };
    expect(code(() => evaluateCaptions([]))).toBe('E_INPUT');
    expect(code(() => evaluateCaptions([{ id: 'x', candidate: 'a', references: [] }]))).toBe('E_INPUT');
    expect(
      code(() =>
        evaluateCaptions([
          { id: 'x', candidate: 'a', references: ['a'] },
          { id: 'x', candidate: 'b', references: ['b'] },
        ]),
      ),
    ).toBe('E_INPUT');
  });
});
