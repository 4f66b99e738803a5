import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { retrievalMetrics } from './retrievalMetrics.js';

const reference = JSON.parse(readFileSync(path.join(import.meta.dirname, '../../test/fixtures/reference.json'), 'utf8')).retrieval;

describe('retrievalMetrics', () => {
  it('matches the numpy reference with two captions per image and ties', () => {
    const m = retrievalMetrics(reference.similarity, reference.numTexts, reference.numImages, reference.imageOfText);
    expect(m.textToImage).toEqual(reference.textToImage);
    expect(m.imageToText).toEqual(reference.imageToText);
  });

  it('gives hand-computed ranks on a 3x3 case', () => {
    // text 0 -> image 0 is best; text 1's image 1 is second; text 2's image 2 is last.
    const sim = [0.9, 0.1, 0.0, 0.8, 0.5, 0.1, 0.3, 0.2, 0.1];
    const m = retrievalMetrics(sim, 3, 3, [0, 1, 2]);
    expect(m.textToImage.ranks).toEqual([1, 2, 3]);
    expect(m.textToImage.r1).toBeCloseTo(1 / 3);
    expect(m.textToImage.medianRank).toBe(2);
    // image 0: column [0.9, 0.8, 0.3] -> text 0 first; image 1: [0.1, 0.5, 0.2] -> text 1 first;
    // image 2: [0.0, 0.1, 0.1] -> text 2 ties text 1, ties count against: rank 2.
    expect(m.imageToText.ranks).toEqual([1, 1, 2]);
  });

  it('cannot be fooled by constant scores', () => {
    const m = retrievalMetrics(new Array(16).fill(0.5), 4, 4, [0, 1, 2, 3]);
    expect(m.textToImage.r1).toBe(0);
    expect(m.textToImage.ranks).toEqual([4, 4, 4, 4]);
  });

  it('rejects inconsistent shapes and images without captions', () => {
    expect(() => retrievalMetrics([1, 2, 3], 2, 2, [0, 1])).toThrow(/expected 2 x 2/);
    expect(() => retrievalMetrics([1, 2, 3, 4], 2, 2, [0, 0])).toThrow(/at least one caption/);
    expect(() => retrievalMetrics([1, 2, 3, 4], 2, 2, [0, 5])).toThrow(/outside/);
  });
});
