import { initBackend, SeededRandom, tf } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkAgainstTorch, loadFixture } from '../../test/fixtures.js';
import { TransformerBlock } from './transformerBlock.js';

describe('TransformerBlock against PyTorch', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  it('pre-LN with causal self-attention and cross-attention to padded encoder states', async () => {
    const fx = await loadFixture('block_pre_cross');
    const block = new TransformerBlock({ ...fx.config, rng: new SeededRandom(1) } as never);
    expect([...block.namedParameters().keys()].filter((k) => k.endsWith('weight'))).toEqual([
      'self_attn.q_proj.weight',
      'self_attn.k_proj.weight',
      'self_attn.v_proj.weight',
      'self_attn.out_proj.weight',
      'self_attn_layer_norm.weight',
      'cross_attn.q_proj.weight',
      'cross_attn.k_proj.weight',
      'cross_attn.v_proj.weight',
      'cross_attn.out_proj.weight',
      'cross_attn_layer_norm.weight',
      'mlp.fc1.weight',
      'mlp.fc2.weight',
      'final_layer_norm.weight',
    ]);
    block.loadStateDict(fx.params());
    checkAgainstTorch(fx, block, ['x', 'mask', 'enc', 'enc_mask'], ({ x, mask, enc, enc_mask }) => ({
      y: block.forward(x as tf.Tensor, { mask, causal: true, encoderStates: enc, encoderMask: enc_mask }).hidden,
    }));
    block.dispose();
  });

  it('post-LN (BERT) with a padding mask and tanh GELU', async () => {
    const fx = await loadFixture('block_post');
    const block = new TransformerBlock({ ...fx.config, rng: new SeededRandom(1) } as never);
    block.loadStateDict(fx.params());
    checkAgainstTorch(fx, block, ['x', 'mask'], ({ x, mask }) => ({ y: block.forward(x as tf.Tensor, { mask }).hidden }));
    block.dispose();
  });

  it('a block with cross-attention refuses to run without encoder states', () => {
    const block = new TransformerBlock({ dim: 4, numHeads: 2, crossAttention: true, rng: new SeededRandom(1) });
    const x = tf.zeros([1, 2, 4]);
    expect(() => block.forward(x)).toThrow(/encoderStates/);
    x.dispose();
    block.dispose();
  });
});
