import { initBackend, SeededRandom, tf } from '@tessera/core';
import { type ClipConfig, type ContrastiveEncoder, createModel, type DualEncoder, defaultProcessorConfig } from '@tessera/models';
import { ImageProcessor, type RgbImage } from '@tessera/patches';
import { trainWordPieceTokenizer } from '@tessera/tokenizer';
import { beforeAll, describe, expect, it } from 'vitest';
import { TINY_CLIP } from '../test/fixture.js';
import { evaluateRetrieval } from './evaluateRetrieval.js';
import type { PreparedPair } from './pairs.js';
import { zeroShotAccuracy } from './zeroShotEval.js';

const processor = new ImageProcessor({ size: { shortest_edge: 16 }, crop_size: { height: 16, width: 16 } });

/** 12 images of seeded noise, image k captioned `class k` (en) and `类 k` (zh): distinct class names. */
const noise = (seed: number): RgbImage => {
  const rng = new SeededRandom(seed);
  return { data: Uint8Array.from({ length: 16 * 16 * 3 }, () => rng.int(256)), width: 16, height: 16, channels: 3 };
};
const pairs: PreparedPair[] = Array.from({ length: 12 }, (_, k) => ({
  key: `k${k}`,
  image: noise(k),
  captions: new Map(),
  texts: new Map([
    ['en', [`class ${k}`, `another ${k}`]],
    ['zh', [`类 ${k}`]],
  ]),
  meta: {},
}));
const tokenizer = trainWordPieceTokenizer(pairs.flatMap((p) => [...p.texts.values()].flat()));

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

/**
 * An encoder whose image embeddings are the identity and whose text embeddings are the rows of
 * `similarity`, handed out in the order asked: text t scores image i exactly similarity[t][i].
 */
function knownSimilarity(similarity: number[][]): ContrastiveEncoder {
  const images = similarity[0]?.length ?? 0;
  let next = 0;
  return {
    encodeImage: (batch) => tf.eye(images, batch.shape[0] as number) as tf.Tensor2D,
    encodeText: (ids) => {
      const rows = similarity.slice(next, next + (ids.shape[0] as number));
      next += rows.length;
      return tf.tensor2d(rows);
    },
  };
}

const pixel = (): RgbImage => ({ data: new Uint8Array(4 * 4 * 3).fill(128), width: 4, height: 4, channels: 3 });
const pair = (key: string, en: string[]): PreparedPair => ({
  key,
  image: pixel(),
  captions: new Map(),
  texts: new Map([['en', en]]),
  meta: {},
});

describe('evaluateRetrieval', () => {
  // Images 0..3; texts t0, t1 of image 0, t2 of image 1, t3, t4 of image 2, t5 of image 3.
  const S = [
    [0.9, 0.1, 0.0, 0.2], // t0 -> image 0 ranks 1
    [0.3, 0.5, 0.4, 0.1], // t1 -> image 0 ranks 3 (0.5 and 0.4 ahead)
    [0.2, 0.6, 0.7, 0.1], // t2 -> image 1 ranks 2
    [0.1, 0.2, 0.8, 0.0], // t3 -> image 2 ranks 1
    [0.4, 0.3, 0.2, 0.5], // t4 -> image 2 ranks 4
    [0.2, 0.1, 0.3, 0.2], // t5 -> image 3 ranks 3 (0.3 ahead, and image 0's 0.2: a tie counts ahead)
  ];
  const known = [pair('a', ['t0', 't1']), pair('b', ['t2']), pair('c', ['t3', 't4']), pair('d', ['t5'])];

  it('gives R@K, mean and median rank of a known similarity matrix, both directions', () => {
    const report = evaluateRetrieval({
      model: knownSimilarity(S),
      tokenizer,
      processor,
      pairs: known,
      languages: ['en', 'zh'],
      maxLength: 8,
    });
    // No zh caption: no zh entry.
    expect(Object.keys(report)).toEqual(['en']);
    const en = report.en;
    expect([en?.texts, en?.images]).toEqual([6, 4]);
    // text -> image ranks 1, 3, 2, 1, 4, 3.
    expect(en?.textToImage.ranks).toEqual([1, 3, 2, 1, 4, 3]);
    expect(en?.textToImage.r1).toBeCloseTo(2 / 6, 12);
    expect(en?.textToImage.r5).toBe(1);
    expect(en?.textToImage.meanRank).toBeCloseTo(14 / 6, 12);
    expect(en?.textToImage.medianRank).toBe(2.5);
    // image -> text, best own caption: image 0 via t0 (0.9) rank 1; image 1 via t2 (0.6) rank 1;
    // image 2 via t3 (0.8) rank 1; image 3 via t5 (0.2) rank 3: t4 (0.5) and t0 (0.2, a tie) ahead.
    expect(en?.imageToText.ranks).toEqual([1, 1, 1, 3]);
    expect(en?.imageToText.r1).toBe(0.75);
    expect(en?.imageToText.meanRank).toBe(1.5);
    expect(en?.imageToText.medianRank).toBe(1);
  });

  it("scores only each image's first caption with captions: 'first'", () => {
    const first = evaluateRetrieval({
      model: knownSimilarity([S[0], S[2], S[3], S[5]] as number[][]),
      tokenizer,
      processor,
      pairs: known,
      languages: ['en'],
      maxLength: 8,
      captions: 'first',
    });
    expect(first.en?.textToImage.ranks).toEqual([1, 2, 1, 3]);
    expect([first.en?.textToImage.r1, first.en?.textToImage.meanRank, first.en?.textToImage.medianRank]).toEqual([0.5, 1.75, 1.5]);
  });

  it('scores every caption of each language against every image without leaking tensors', () => {
    const { model, config } = createModel(TINY_CLIP, { vocabSize: tokenizer.vocabSize });
    expect(defaultProcessorConfig(config as ClipConfig).crop_size).toEqual({ height: 16, width: 16 });
    const before = tf.memory().numTensors;
    const report = evaluateRetrieval({ model: model as DualEncoder, tokenizer, processor, pairs, languages: ['en', 'zh'], maxLength: 16 });
    expect(tf.memory().numTensors).toBe(before);
    const texts = (lang: string) => pairs.reduce((s, p) => s + (p.texts.get(lang)?.length ?? 0), 0);
    expect(report.en?.texts).toBe(texts('en'));
    expect(report.zh?.texts).toBe(texts('zh'));
    expect(report.en?.textToImage.ranks).toHaveLength(texts('en'));
    expect(report.en?.imageToText.ranks).toHaveLength(pairs.length);
    // With distinct class names, zero-shot ranks are image-to-text ranks over the first captions.
    const first = evaluateRetrieval({
      model: model as DualEncoder,
      tokenizer,
      processor,
      pairs,
      languages: ['en'],
      maxLength: 16,
      captions: 'first',
    });
    const zs = zeroShotAccuracy({ model: model as DualEncoder, tokenizer, processor, pairs, lang: 'en', maxLength: 16 });
    expect(zs.classes).toBe(pairs.length);
    expect(zs.ranks).toEqual(first.en?.imageToText.ranks);
    expect(new Set(zs.ranks).size).toBeGreaterThan(3);
    expect(zs.accuracy).toBeCloseTo(first.en?.imageToText.r1 ?? -1, 10);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});
