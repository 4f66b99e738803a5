import { initBackend, SeededRandom, tf } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { PredictionHeadTransform } from './predictionHeadTransform.js';

describe("PredictionHeadTransform (BERT's LM head transform)", () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  it('is LayerNorm(act(x W^T + b)) with parameters dense.* and layer_norm.*; hand-computed', () => {
    const head = new PredictionHeadTransform({ dim: 2, activation: 'relu', layerNormEps: 1e-12, rng: new SeededRandom(1) });
    expect([...head.namedParameters().keys()]).toEqual(['dense.weight', 'dense.bias', 'layer_norm.weight', 'layer_norm.bias']);
    head.dense.weight.assign(tf.tensor2d([2, 0, 1, 1], [2, 2]));
    (head.dense.bias as tf.Variable).assign(tf.tensor1d([0, -5]));
    head.layer_norm.weight.assign(tf.tensor1d([3, 3]));
    head.layer_norm.bias.assign(tf.tensor1d([1, 0]));
    // x = [1, 2]: dense -> [2, -2], relu -> [2, 0], normalised -> [1, -1], scaled and shifted -> [4, -3].
    const y = head.forward(tf.tensor3d([1, 2], [1, 1, 2]));
    const values = Array.from(y.dataSync());
    expect(values[0]).toBeCloseTo(4, 5);
    expect(values[1]).toBeCloseTo(-3, 5);
    y.dispose();
    head.dispose();
  });
});
