import { initBackend, tf } from '@tessera/core';
import { trainWordPieceTokenizer } from '@tessera/tokenizer';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ContrastiveEncoder, ZeroShotClassifier } from './zeroShot.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

/**
 * A toy encoder pair in 3-D: a text embeds as the normalized sum of one-hot vectors of the
 * colour words it contains (red, green, blue); an image [1, 3, 1, 1] embeds as its normalized
 * RGB value. So the expected classes and probabilities follow by hand.
 */
function toyEncoder(vocab: (id: number) => string): ContrastiveEncoder {
  const axis: Record<string, number> = { red: 0, green: 1, blue: 2 };
  return {
    encodeImage: (images) =>
      tf.tidy(() => {
        const flat = tf.reshape(images, [images.shape[0] as number, 3]);
        return tf.div(flat, tf.norm(flat, 'euclidean', 1, true)) as tf.Tensor2D;
      }),
    encodeText: (ids) => {
      const rows = ids.arraySync() as number[][];
      const values = rows.map((row) => {
        const v = [0, 0, 0];
        for (const id of row) if (vocab(id) in axis) v[axis[vocab(id)] as number] += 1;
        const n = Math.hypot(...v) || 1;
        return v.map((x) => x / n);
      });
      return tf.tensor2d(values);
    },
  };
}

describe('ZeroShotClassifier', () => {
  it('averages prompt templates per class and picks the most similar class', () => {
    const tokenizer = trainWordPieceTokenizer(['a red thing', 'a green thing', 'a blue thing', 'a photo of']);
    const model = toyEncoder((id) => tokenizer.idToToken(id) ?? '');
    const zs = new ZeroShotClassifier({
      model,
      tokenizer,
      classNames: ['red', 'green', 'blue'],
      templates: ['a {} thing', 'a photo of {}'],
    });
    expect(Array.from(zs.classEmbeddings.dataSync()).map((v) => Math.round(v * 1e6) / 1e6)).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    const images = tf.tensor4d([0.9, 0.1, 0.1, 0.1, 0.2, 0.95, 0.1, 0.8, 0.3], [3, 3, 1, 1]);
    expect(zs.classify(images)).toEqual(['red', 'blue', 'green']);
    // Image 0: cosines 0.9/|v|, 0.1/|v|, 0.1/|v| with |v| = sqrt(0.83); softmax of 100 x cosine.
    const n = Math.sqrt(0.83);
    const logits = [0.9, 0.1, 0.1].map((c) => (100 * c) / n);
    const z = logits.reduce((s, l) => s + Math.exp(l - (logits[0] as number)), 0);
    const probs = zs.probabilities(images);
    expect(probs.arraySync()[0]?.[0]).toBeCloseTo(1 / z, 5);
    tf.dispose([images, probs]);
    zs.dispose();
  });

  it('asks for at least two classes and a {} in each template', () => {
    const tokenizer = trainWordPieceTokenizer(['red']);
    const model = toyEncoder(() => '');
    expect(() => new ZeroShotClassifier({ model, tokenizer, classNames: ['red'] })).toThrow(/2 class names/);
    expect(() => new ZeroShotClassifier({ model, tokenizer, classNames: ['red', 'blue'], templates: ['a photo'] })).toThrow(/\{\}/);
  });
});
