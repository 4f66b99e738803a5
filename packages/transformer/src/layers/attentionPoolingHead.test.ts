import { initBackend, SeededRandom, tf } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkAgainstTorch, loadFixture } from '../../test/fixtures.js';
import { AttentionPoolingHead } from './attentionPoolingHead.js';

describe('AttentionPoolingHead', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  it("matches transformers' SiglipMultiheadAttentionPoolingHead (outputs, parameter and input gradients)", async () => {
    const fx = await loadFixture('attention_pooling');
    const head = new AttentionPoolingHead({ ...fx.config, rng: new SeededRandom(1) } as never);
    expect([...head.namedParameters().keys()]).toEqual([
      'probe',
      'attention.in_proj_weight',
      'attention.in_proj_bias',
      'attention.out_proj.weight',
      'attention.out_proj.bias',
      'layernorm.weight',
      'layernorm.bias',
      'mlp.fc1.weight',
      'mlp.fc1.bias',
      'mlp.fc2.weight',
      'mlp.fc2.bias',
    ]);
    head.loadStateDict(fx.params());
    checkAgainstTorch(fx, head, ['x'], ({ x }) => ({ y: head.forward(x as tf.Tensor) }));
    head.dispose();
  });

  it('rejects token states of the wrong width', () => {
    const head = new AttentionPoolingHead({ dim: 8, numHeads: 2, rng: new SeededRandom(1) });
    const x = tf.zeros([1, 4, 6]);
    expect(() => head.forward(x)).toThrow(/last dimension to be 8/);
    x.dispose();
    head.dispose();
  });
});
