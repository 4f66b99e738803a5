import { initBackend, tf } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { contrastiveMetrics } from './contrastiveMetrics.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

describe('contrastiveMetrics', () => {
  it('gives argmax accuracy both ways and mean positive / negative similarity (hand computed)', () => {
    // Image 1's most similar text is text 0 (0.5 > 0.3): a miss image->text; both texts find their image.
    const similarity = tf.tensor2d([
      [0.9, 0.1],
      [0.5, 0.3],
    ]);
    const positives = tf.eye(2) as tf.Tensor2D;
    const m = contrastiveMetrics(similarity, positives);
    expect(m.accuracyImageToText.dataSync()[0]).toBeCloseTo(0.5, 6);
    expect(m.accuracyTextToImage.dataSync()[0]).toBeCloseTo(1, 6);
    expect(m.positiveSimilarity.dataSync()[0]).toBeCloseTo((0.9 + 0.3) / 2, 6);
    expect(m.negativeSimilarity.dataSync()[0]).toBeCloseTo((0.1 + 0.5) / 2, 6);
    tf.dispose([similarity, positives, ...Object.values(m)]);
  });
});
