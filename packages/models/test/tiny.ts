import { SeededRandom, tf } from '@tessera/core';
import type { ModelConfigInput } from '../src/config.js';

/** A CLIP config small enough for unit tests (8x8 images, 4x4 patches, width 16). */
export const TINY_CLIP: ModelConfigInput = {
  type: 'clip',
  embedDim: 8,
  vision: { imageSize: 8, patchSize: 4, dim: 16, numHeads: 2, numLayers: 1, mlpDim: 32 },
  text: { vocabSize: 20, maxPositions: 8, dim: 16, numHeads: 2, numLayers: 1, mlpDim: 32, pooling: 'mean' },
  seed: 3,
};

export const TINY_ALBEF: ModelConfigInput = {
  type: 'albef',
  embedDim: 8,
  vision: { imageSize: 8, patchSize: 4, dim: 16, numHeads: 2, numLayers: 1, mlpDim: 32 },
  text: { vocabSize: 20, maxPositions: 8, dim: 16, numHeads: 2, numLayers: 1, mlpDim: 32 },
  fusion: { numLayers: 1, numHeads: 2, mlpDim: 32 },
  seed: 4,
};

/** Seeded random images [n, 3, size, size] and token ids [n, len] in [5, vocab). */
export function tinyBatch(
  n: number,
  size = 8,
  len = 5,
  vocab = 20,
  seed = 0,
): { images: tf.Tensor4D; ids: tf.Tensor2D; mask: tf.Tensor2D } {
  const rng = new SeededRandom(seed);
  return {
    images: tf.tensor4d(
      rng.array(n * 3 * size * size, (r) => r.normal()),
      [n, 3, size, size],
    ),
    ids: tf.tensor2d(
      rng.array(n * len, (r) => 5 + r.int(vocab - 5)),
      [n, len],
      'int32',
    ),
    mask: tf.ones([n, len], 'int32') as tf.Tensor2D,
  };
}
