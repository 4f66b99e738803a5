import { Module, parseConfig, tf } from '@tessera/core';
import { z } from 'zod';
import { blockSettings, STACK_CONFIG_FIELDS, TransformerStack } from '../blocks/transformerStack.js';
import { assertRank } from '../checks.js';
import { InitSchemeSchema } from '../init.js';
import { AttentionPoolingHead } from '../layers/attentionPoolingHead.js';
import { Dropout } from '../layers/dropout.js';
import { LayerNorm } from '../layers/layerNorm.js';
import { PatchEmbedding } from '../layers/patchEmbedding.js';
import type { EncoderOutput } from './encoderOutput.js';
import { poolHidden, poolingWeights } from './pooling.js';

export const VisionEncoderConfigSchema = z
  .object({
    ...STACK_CONFIG_FIELDS,
    imageSize: z.union([z.number().int().positive(), z.tuple([z.number().int().positive(), z.number().int().positive()])]),
    patchSize: z.number().int().positive(),
    channels: z.number().int().positive().default(3),
    classToken: z.boolean().default(true),
    /** The patch projection has a bias (ViT, SigLIP); CLIP's conv has none. */
    patchBias: z.boolean().default(true),
    /** A LayerNorm on the embedded tokens before the first block (CLIP's `pre_layrnorm`). */
    preNorm: z.boolean().default(false),
    positionEmbedding: z.enum(['learned', 'sincos']).default('learned'),
    /**
     * 'cls' needs the class token; 'mean' averages the patch tokens (class token excluded);
     * 'attention' is SigLIP's multihead attention pooling head (`head.*`) over all tokens.
     */
    pooling: z.enum(['cls', 'mean', 'attention']).optional(),
    norm: z.enum(['pre', 'post']).default('pre'),
    init: InitSchemeSchema.default('trunc_normal'),
  })
  .strict()
  .refine((c) => c.classToken || c.pooling !== 'cls', { message: "pooling 'cls' needs classToken: true", path: ['pooling'] });
/**
 * Config of VisionEncoder: the stack's `dim`, `numHeads`, `numLayers` and `rng` (`mlpDim`,
 * `activation`, dropouts, `layerNormEps`, `std` optional), `imageSize`, `patchSize`; defaults 3
 * channels, class token, learned positions, pre-LN, `init` trunc_normal, pooling 'cls' (with a
 * class token, else 'mean'). E_CONFIG when invalid.
 */
export type VisionEncoderConfig = z.input<typeof VisionEncoderConfigSchema>;

/**
 * ViT: patch embedding (`PatchEmbedding`: `embeddings.projection.*`, `embeddings.cls_token`,
 * `embeddings.position_embeddings`), optionally `pre_layrnorm` (CLIP), `encoder.layers.N.*`,
 * then `layernorm` over all tokens (pre-LN) as Hugging Face ViT (SigLIP's `post_layernorm`);
 * pooled by the class token, the mean of patch tokens or an attention pooling head (`head`).
 * (CLIP's `post_layernorm` on the pooled class token is the same numbers: LayerNorm works token by token.)
 */
export class VisionEncoder extends Module {
  readonly config: z.output<typeof VisionEncoderConfigSchema>;
  readonly pooling: 'cls' | 'mean' | 'attention';
  readonly embeddings: PatchEmbedding;
  readonly encoder: TransformerStack;
  readonly pre_layrnorm: LayerNorm | null = null;
  readonly layernorm: LayerNorm | null = null;
  readonly head: AttentionPoolingHead | null = null;
  private readonly drop: Dropout;

  constructor(config: VisionEncoderConfig) {
    super();
    const c = parseConfig(VisionEncoderConfigSchema, config, 'VisionEncoder config');
    this.config = c;
    this.pooling = c.pooling ?? (c.classToken ? 'cls' : 'mean');
    this.embeddings = this.addModule(
      'embeddings',
      new PatchEmbedding({
        imageSize: c.imageSize as number | [number, number],
        patchSize: c.patchSize,
        channels: c.channels,
        dim: c.dim,
        classToken: c.classToken,
        positionEmbedding: c.positionEmbedding,
        patchBias: c.patchBias,
        rng: c.rng.fork('patches'),
      }),
    );
    if (c.preNorm) this.pre_layrnorm = this.addModule('pre_layrnorm', new LayerNorm({ dim: c.dim, eps: c.layerNormEps }));
    this.drop = this.addModule('dropout', new Dropout({ p: c.dropout, rng: c.rng.fork('embedding-dropout') }));
    this.encoder = this.addModule('encoder', new TransformerStack(c.numLayers, { ...blockSettings(c), rng: c.rng.fork('encoder') }));
    if (c.norm === 'pre') this.layernorm = this.addModule('layernorm', new LayerNorm({ dim: c.dim, eps: c.layerNormEps }));
    if (this.pooling === 'attention') {
      const { dim, numHeads, mlpDim, activation, layerNormEps } = c;
      this.head = this.addModule(
        'head',
        new AttentionPoolingHead({ dim, numHeads, mlpDim, activation, layerNormEps, rng: c.rng.fork('head') }),
      );
    }
  }

  /** Tokens per image: patches plus the class token. */
  get numTokens(): number {
    return this.embeddings.numPatches + (this.config.classToken ? 1 : 0);
  }

  /** Token states of images NCHW [B, C, H, W] before pooling (shared with VideoEncoder). */
  tokens(images: tf.Tensor): tf.Tensor {
    assertRank(images, 4, 'VisionEncoder', 'of images [batch, channels, height, width]');
    return tf.tidy(() => this.encode(this.embeddings.forward(images as tf.Tensor4D)));
  }

  /**
   * Runs the Transformer (and final LayerNorm) over already embedded tokens [B, n, dim], e.g.
   * the visible subset of `embeddings.forward(images)` for MAE-style masking.
   */
  encode(embedded: tf.Tensor): tf.Tensor {
    assertRank(embedded, 3, 'VisionEncoder.encode', 'of embedded tokens [batch, tokens, dim]');
    return tf.tidy(() => {
      const input = this.pre_layrnorm ? this.pre_layrnorm.forward(embedded) : embedded;
      let hidden = this.encoder.forward(this.drop.forward(input)).hidden;
      if (this.layernorm) hidden = this.layernorm.forward(hidden);
      return hidden;
    });
  }

  /** Pools token states [B, tokens, dim] -> [B, dim]. */
  pool(hidden: tf.Tensor): tf.Tensor {
    if (this.head) return this.head.forward(hidden);
    const [batch, length] = hidden.shape as [number, number, number];
    const mask = new Int32Array(batch * length).fill(1);
    if (this.config.classToken && this.pooling === 'mean') for (let b = 0; b < batch; b++) mask[b * length] = 0;
    return poolHidden(hidden, poolingWeights(this.pooling as 'cls' | 'mean', mask, batch, length));
  }

  /**
   * Images NCHW [B, C, H, W] of the configured size -> `hidden` [B, tokens, dim] (the class
   * token first, if any) and `pooled` [B, dim]. E_SHAPE for another rank, E_INPUT for other channels or sizes.
   */
  forward(images: tf.Tensor): EncoderOutput {
    return tf.tidy(() => {
      const hidden = this.tokens(images);
      return { hidden, pooled: this.pool(hidden) } as unknown as tf.TensorContainer;
    }) as unknown as EncoderOutput;
  }
}
