import { initBackend, SeededRandom, tf } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkAgainstTorch, expectClose, loadFixture } from '../../test/fixtures.js';
import type { EncoderOutput } from './encoderOutput.js';
import { FusionEncoder } from './fusionEncoder.js';
import { TextEncoder } from './textEncoder.js';
import { VideoEncoder } from './videoEncoder.js';
import { VisionEncoder } from './visionEncoder.js';

const out = (r: EncoderOutput) => ({ hidden: r.hidden, pooled: r.pooled });

describe('encoders against PyTorch', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  it('TextEncoder, BERT-like: post-LN, bidirectional, embedding LayerNorm, CLS pooling', async () => {
    const fx = await loadFixture('text_bert');
    const enc = new TextEncoder({ ...fx.config, rng: new SeededRandom(1) } as never);
    expect(enc.namedParameters().has('embeddings.layer_norm.weight')).toBe(true);
    expect(enc.namedParameters().has('encoder.layers.1.self_attn.q_proj.weight')).toBe(true);
    enc.loadStateDict(fx.params());
    checkAgainstTorch(fx, enc, ['ids', 'mask'], ({ ids, mask }) => out(enc.forward(ids as tf.Tensor, mask)));
    enc.dispose();
  });

  it('TextEncoder, BERT layout against transformers BertModel: token types, embedding LayerNorm, post-LN, eps 1e-12', async () => {
    const fx = await loadFixture('text_bert_hf');
    const enc = new TextEncoder({ ...fx.config, rng: new SeededRandom(1) } as never);
    expect(enc.namedParameters().has('embeddings.token_type_embedding.weight')).toBe(true);
    enc.loadStateDict(fx.params());
    checkAgainstTorch(fx, enc, ['ids', 'mask', 'types'], ({ ids, mask, types }) => out(enc.forward(ids as tf.Tensor, mask, types)));
    enc.dispose();
  });

  it('TextEncoder, CLIP-like: pre-LN, causal, QuickGELU, EOS pooling', async () => {
    const fx = await loadFixture('text_clip');
    const enc = new TextEncoder({ ...fx.config, rng: new SeededRandom(1) } as never);
    expect(enc.namedParameters().has('final_layer_norm.weight')).toBe(true);
    enc.loadStateDict(fx.params());
    checkAgainstTorch(fx, enc, ['ids', 'mask'], ({ ids, mask }) => out(enc.forward(ids as tf.Tensor, mask)));
    enc.dispose();
  });

  it('VisionEncoder: ViT over PatchEmbedding, CLS pooling', async () => {
    const fx = await loadFixture('vision');
    const enc = new VisionEncoder({ ...fx.config, rng: new SeededRandom(1) } as never);
    enc.loadStateDict(fx.params());
    checkAgainstTorch(fx, enc, ['images'], ({ images }) => out(enc.forward(images as tf.Tensor)));
    enc.dispose();
  });

  it('VideoEncoder, joint space-time tokens with temporal embeddings', async () => {
    const fx = await loadFixture('video_joint');
    const enc = new VideoEncoder({ ...fx.config, rng: new SeededRandom(1) } as never);
    enc.loadStateDict(fx.params());
    checkAgainstTorch(fx, enc, ['video'], ({ video }) => out(enc.forward(video as tf.Tensor)));
    enc.dispose();
  });

  it('VideoEncoder, joint mode with preNorm and a patch projection without bias', async () => {
    const fx = await loadFixture('video_joint_prenorm');
    const enc = new VideoEncoder({ ...fx.config, rng: new SeededRandom(1) } as never);
    expect(enc.namedParameters().has('pre_layrnorm.weight')).toBe(true);
    expect(enc.namedParameters().has('embeddings.projection.bias')).toBe(false);
    enc.loadStateDict(fx.params());
    checkAgainstTorch(fx, enc, ['video'], ({ video }) => out(enc.forward(video as tf.Tensor)));
    enc.dispose();
  });

  it('VideoEncoder, joint mode has the embedding dropout of a VisionEncoder, active in training only', async () => {
    const fx = await loadFixture('video_joint');
    const video = tf.randomUniform([1, 2, 3, 8, 8], 0, 1, 'float32', 3);
    const enc = new VideoEncoder({ ...fx.config, dropout: 0.5, rng: new SeededRandom(1) } as never);
    enc.loadStateDict(fx.params());
    expect((enc.namedModules().get('dropout') as unknown as { p: number }).p).toBe(0.5);
    const plain = new VideoEncoder({ ...fx.config, rng: new SeededRandom(1) } as never);
    plain.loadStateDict(fx.params());
    const hidden = (m: VideoEncoder) => {
      const h = m.forward(video).hidden;
      const values = Array.from(h.dataSync());
      h.dispose();
      return values;
    };
    expect(hidden(enc.eval())).toEqual(hidden(plain));
    expect(hidden(enc.train())).not.toEqual(hidden(plain));
    tf.dispose([video]);
    enc.dispose();
    plain.dispose();
  });

  it('VideoEncoder, per-frame ViT pooled to frame tokens plus temporal embeddings', async () => {
    const fx = await loadFixture('video_frames');
    const enc = new VideoEncoder({ ...fx.config, rng: new SeededRandom(1) } as never);
    enc.loadStateDict(fx.params());
    checkAgainstTorch(fx, enc, ['video'], ({ video }) => out(enc.forward(video as tf.Tensor)));
    enc.dispose();
  });

  it('FusionEncoder (ALBEF): post-LN text layers with cross-attention to image tokens', async () => {
    const fx = await loadFixture('fusion');
    const enc = new FusionEncoder({ ...fx.config, rng: new SeededRandom(1) } as never);
    enc.loadStateDict(fx.params());
    checkAgainstTorch(fx, enc, ['text', 'text_mask', 'image', 'image_mask'], ({ text, text_mask, image, image_mask }) =>
      out(enc.forward({ text: text as tf.Tensor, textMask: text_mask, image: image as tf.Tensor, imageMask: image_mask })),
    );
    enc.dispose();
  });
});

describe('encoders: masks and pooling', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  const config = { vocabSize: 20, maxPositions: 12, dim: 8, numHeads: 2, numLayers: 2, mlpDim: 16 };

  it('padding does not change the states of real tokens nor the pooled vector (bidirectional, mean pooling)', () => {
    const enc = new TextEncoder({ ...config, pooling: 'mean', rng: new SeededRandom(2) });
    tf.tidy(() => {
      const short = enc.forward(tf.tensor([[3, 4, 5, 6]], [1, 4], 'int32'));
      const padded = enc.forward(tf.tensor([[3, 4, 5, 6, 9, 9, 9]], [1, 7], 'int32'), tf.tensor([[1, 1, 1, 1, 0, 0, 0]], [1, 7], 'int32'));
      expectClose(tf.slice(padded.hidden, [0, 0, 0], [1, 4, 8]), short.hidden, 'real-token states', 1e-5);
      expectClose(padded.pooled, short.pooled, 'mean-pooled', 1e-5);
      // Mean pooling is the average of the real tokens' states.
      expectClose(short.pooled, tf.mean(short.hidden, 1), 'mean = average', 1e-6);
    });
    enc.dispose();
  });

  it('causal text encoder: the state at t ignores tokens after t; EOS pooling without an id takes the last real token', () => {
    const enc = new TextEncoder({ ...config, causal: true, pooling: 'eos', rng: new SeededRandom(3) });
    tf.tidy(() => {
      const a = enc.forward(tf.tensor([[1, 2, 3, 4, 5]], [1, 5], 'int32'));
      const b = enc.forward(tf.tensor([[1, 2, 3, 17, 18]], [1, 5], 'int32'));
      expectClose(tf.slice(a.hidden, [0, 0, 0], [1, 3, 8]), tf.slice(b.hidden, [0, 0, 0], [1, 3, 8]), 'prefix states', 1e-6);
      const c = enc.forward(tf.tensor([[1, 2, 3, 0, 0]], [1, 5], 'int32'), tf.tensor([[1, 1, 1, 0, 0]], [1, 5], 'int32'));
      expectClose(c.pooled, tf.reshape(tf.slice(a.hidden, [0, 2, 0], [1, 1, 8]), [1, 8]), 'pooled at the last real token', 1e-6);
    });
    enc.dispose();
  });

  it('SigLIP text (padToMax): texts are padded to maxPositions with the pad id, pads attended, the last position pooled', () => {
    const enc = new TextEncoder({ ...config, pooling: 'last', padToMax: true, padTokenId: 1, rng: new SeededRandom(4) });
    tf.tidy(() => {
      const full = enc.forward(tf.tensor([[3, 4, 5, 2, 1, 1, 1, 1, 1, 1, 1, 1]], [1, 12], 'int32'));
      // Shorter ids with a padding mask give the same result: the mask is not used, the pads are added.
      const short = enc.forward(tf.tensor([[3, 4, 5, 2, 1]], [1, 5], 'int32'), tf.tensor([[1, 1, 1, 1, 0]], [1, 5], 'int32'));
      expect(short.hidden.shape).toEqual([1, 12, 8]);
      expectClose(short.pooled, full.pooled, 'pooled', 1e-6);
      expectClose(full.pooled, tf.reshape(tf.slice(full.hidden, [0, 11, 0], [1, 1, 8]), [1, 8]), 'last position', 1e-6);
      // The pads are attended: a mask over them would change the result.
      const masked = new TextEncoder({ ...config, pooling: 'last', rng: new SeededRandom(4) });
      const other = masked.forward(
        tf.tensor([[3, 4, 5, 2, 1, 1, 1, 1, 1, 1, 1, 1]], [1, 12], 'int32'),
        tf.tensor([[1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1]], [1, 12], 'int32'),
      );
      expect(tf.max(tf.abs(tf.sub(other.pooled, full.pooled))).dataSync()[0]).toBeGreaterThan(1e-3);
      masked.dispose();
    });
    expect(() => enc.forward(tf.zeros([1, 13], 'int32'))).toThrow(/exceed maxPositions 12/);
    expect(() => new TextEncoder({ ...config, padToMax: true, rng: new SeededRandom(4) })).toThrow(/padTokenId/);
    enc.dispose();
  });

  it('VisionEncoder without class token, pooled by an attention head (SigLIP), no patch bias option', () => {
    const enc = new VisionEncoder({
      imageSize: 8,
      patchSize: 4,
      dim: 8,
      numHeads: 2,
      numLayers: 1,
      classToken: false,
      pooling: 'attention',
      patchBias: false,
      rng: new SeededRandom(5),
    });
    const names = [...enc.namedParameters().keys()];
    expect(names).toContain('head.attention.in_proj_weight');
    expect(names).toContain('layernorm.weight');
    expect(names).not.toContain('embeddings.projection.bias');
    expect(names).not.toContain('embeddings.cls_token');
    expect(enc.numTokens).toBe(4);
    tf.tidy(() => {
      const r = enc.forward(tf.ones([2, 3, 8, 8]));
      expect(r.hidden.shape).toEqual([2, 4, 8]);
      expectClose(r.pooled, enc.head?.forward(r.hidden) as tf.Tensor, 'pooled by the head', 1e-6);
    });
    enc.dispose();
  });

  it('token types default to segment 0; without a table they are refused', () => {
    const enc = new TextEncoder({ ...config, norm: 'post', typeVocabSize: 2, rng: new SeededRandom(7) });
    tf.tidy(() => {
      const ids = tf.tensor([[3, 4, 5]], [1, 3], 'int32');
      const zeros = tf.zeros([1, 3], 'int32');
      expectClose(enc.forward(ids).hidden, enc.forward(ids, undefined, zeros).hidden, 'default types', 0);
      const ones = tf.ones([1, 3], 'int32');
      const diff = tf.max(tf.abs(tf.sub(enc.forward(ids, undefined, ones).pooled, enc.forward(ids).pooled))).dataSync()[0] as number;
      expect(diff).toBeGreaterThan(1e-3);
      expect(() => enc.forward(ids, undefined, tf.zeros([1, 2], 'int32'))).toThrow(/tokenTypeIds must be \[1, 3\]/);
    });
    enc.dispose();
    const plain = new TextEncoder({ ...config, rng: new SeededRandom(7) });
    expect(plain.namedParameters().has('embeddings.token_type_embedding.weight')).toBe(false);
    tf.tidy(() => {
      const ids = tf.tensor([[3, 4, 5]], [1, 3], 'int32');
      expect(() => plain.forward(ids, undefined, tf.zeros([1, 3], 'int32'))).toThrow(/no token-type table/);
    });
    plain.dispose();
  });

  it('names, counts, summary and a safetensors round trip', async () => {
    const { mkdtemp } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const a = new VisionEncoder({ imageSize: 8, patchSize: 4, dim: 8, numHeads: 2, numLayers: 1, mlpDim: 16, rng: new SeededRandom(4) });
    // patch projection 8*3*16+8, cls 8, positions 5*8; block: 4*(64+8) + 16*8+16 + 16*8+8 + two LayerNorms 2*16; final LN 16
    const block = 4 * 72 + (128 + 16) + (128 + 8) + 2 * 16;
    expect(a.parameterCount()).toBe(392 + 8 + 40 + block + 16);
    expect(a.summary()).toMatch(/encoder\.layers\.0\.mlp\.fc1\.weight\s+\[16, 8\]\s+128/);
    const file = path.join(await mkdtemp(path.join(tmpdir(), 'tessera-transformer-')), 'vit.safetensors');
    await a.save(file);
    const b = new VisionEncoder({ imageSize: 8, patchSize: 4, dim: 8, numHeads: 2, numLayers: 1, mlpDim: 16, rng: new SeededRandom(5) });
    await b.load(file);
    tf.tidy(() => {
      const images = tf.randomUniform([1, 3, 8, 8]);
      expectClose(b.forward(images).pooled, a.forward(images).pooled, 'reloaded', 0);
    });
    a.dispose();
    b.dispose();
  });

  it('a CLIP-like training step (vision + causal text, dropout on) keeps the tensor count flat over 20 steps', () => {
    const rng = new SeededRandom(6);
    const vision = new VisionEncoder({ imageSize: 8, patchSize: 4, dim: 8, numHeads: 2, numLayers: 1, dropout: 0.1, rng });
    const text = new TextEncoder({ ...config, causal: true, pooling: 'eos', dropout: 0.1, rng });
    const optimizer = tf.train.adam(1e-2);
    const images = tf.randomNormal([3, 3, 8, 8]);
    const ids = tf.tensor(
      [
        [1, 4, 2, 0],
        [1, 5, 6, 2],
        [1, 7, 2, 0],
      ],
      [3, 4],
      'int32',
    );
    const mask = tf.tensor(
      [
        [1, 1, 1, 0],
        [1, 1, 1, 1],
        [1, 1, 1, 0],
      ],
      [3, 4],
      'int32',
    );
    const labels = tf.oneHot(tf.tensor1d([0, 1, 2], 'int32'), 3);
    const vars = [...vision.trainableVariables(), ...text.trainableVariables()];
    const counts: number[] = [];
    for (let step = 0; step < 20; step++) {
      const loss = optimizer.minimize(
        () => {
          const v = vision.forward(images).pooled;
          const t = text.forward(ids, mask).pooled;
          return tf.losses.softmaxCrossEntropy(labels, tf.matMul(v, t, false, true)) as tf.Scalar;
        },
        true,
        vars,
      );
      loss?.dispose();
      counts.push(tf.memory().numTensors);
    }
    expect(new Set(counts.slice(1)).size).toBe(1);
    optimizer.dispose();
    tf.dispose([images, ids, mask, labels]);
    vision.dispose();
    text.dispose();
  });

  it('bad inputs are typed errors', () => {
    const enc = new TextEncoder({ ...config, rng: new SeededRandom(1) });
    const ids = tf.tensor([[1, 2]], [1, 2], 'int32');
    const badMask = tf.tensor([[1, 1, 1]], [1, 3], 'int32');
    expect(() => enc.forward(ids, badMask)).toThrow(/mask must be \[1, 2\]/);
    const zeroMask = tf.tensor([[0, 0]], [1, 2], 'int32');
    expect(() => enc.forward(ids, zeroMask)).toThrow(/no real tokens/);
    expect(
      () =>
        new VisionEncoder({
          imageSize: 8,
          patchSize: 4,
          dim: 8,
          numHeads: 2,
          numLayers: 1,
          classToken: false,
          pooling: 'cls',
          rng: new SeededRandom(1),
        }),
    ).toThrow(/classToken/);
    tf.dispose([ids, badMask, zeroMask]);
    enc.dispose();
  });
});
