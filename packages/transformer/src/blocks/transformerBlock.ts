import { Module, parseConfig, TesseraError, tf } from '@tessera/core';
import { z } from 'zod';
import { type KeyValue, MultiHeadAttention } from '../attention/multiHeadAttention.js';
import { InitSchemeSchema, RngSchema } from '../init.js';
import { ACTIVATIONS } from '../layers/activations.js';
import { Dropout } from '../layers/dropout.js';
import { LayerNorm } from '../layers/layerNorm.js';
import { MLP } from '../layers/mlp.js';

export const TransformerBlockConfigSchema = z
  .object({
    dim: z.number().int().positive(),
    numHeads: z.number().int().positive(),
    /** Feed-forward width (default 4 x dim). */
    mlpDim: z.number().int().positive().optional(),
    /** 'pre': x + f(LN(x)) (ViT, CLIP, GPT-2); 'post': LN(x + f(x)) (BERT, ALBEF). */
    norm: z.enum(['pre', 'post']).default('pre'),
    /** Adds a cross-attention sub-layer between self-attention and the MLP. */
    crossAttention: z.boolean().default(false),
    /** Width of the cross-attention source (default dim). */
    crossDim: z.number().int().positive().optional(),
    activation: z.enum(ACTIVATIONS).default('gelu'),
    dropout: z.number().min(0).lt(1).default(0),
    attentionDropout: z.number().min(0).lt(1).default(0),
    layerNormEps: z.number().positive().default(1e-5),
    init: InitSchemeSchema.default('kaiming_uniform'),
    std: z.number().positive().default(0.02),
    rng: RngSchema,
  })
  .strict();
/**
 * Config of TransformerBlock: `dim`, `numHeads` (must divide dim) and `rng`; defaults pre-LN,
 * no cross-attention, `mlpDim` 4 x dim, gelu, no dropout, `layerNormEps` 1e-5, `init`
 * kaiming_uniform (`std` 0.02). E_CONFIG when invalid.
 */
export type TransformerBlockConfig = z.input<typeof TransformerBlockConfigSchema>;

/** What one block caches during generation. */
export interface BlockCache {
  self: KeyValue;
  cross?: KeyValue;
}

/** Options of `TransformerBlock.forward` (and `TransformerStack.forward`): masks, attention pattern, cross-attention source, KV cache. */
export interface BlockOptions {
  /** [B, S(+cached)] 1 = real token, 0 = padding, for self-attention keys. */
  mask?: tf.Tensor;
  /** Causal self-attention: each position sees only itself and earlier positions (cached ones included). */
  causal?: boolean;
  /** With `causal`: leading positions that see each other in full (prefix LM). */
  prefixLength?: number;
  /** Cross-attention source [B, Sk, crossDim]; required when the block has cross-attention (with a cache too). */
  encoderStates?: tf.Tensor;
  /** [B, Sk] padding mask of the encoder states. */
  encoderMask?: tf.Tensor;
  /** This block's cache from the previous call: the new positions continue it. */
  past?: BlockCache;
  /** Return `present`, the keys and values to pass as `past` next time. */
  useCache?: boolean;
}

/** What `TransformerBlock.forward` returns. */
export interface BlockOutput {
  /** [B, S, dim] */
  hidden: tf.Tensor;
  /** With `useCache`: `past` extended by this call's positions (cross-attention keys reused). */
  present?: BlockCache;
}

/**
 * One Transformer layer: self-attention, optional cross-attention, MLP, each with a residual
 * and a LayerNorm, pre-LN by default or post-LN (BERT). Parameter names follow Hugging Face
 * BART: `self_attn`, `self_attn_layer_norm`, `cross_attn`, `cross_attn_layer_norm`, `mlp.fc1`,
 * `mlp.fc2`, `final_layer_norm`.
 */
export class TransformerBlock extends Module {
  readonly norm: 'pre' | 'post';
  readonly self_attn: MultiHeadAttention;
  readonly self_attn_layer_norm: LayerNorm;
  readonly cross_attn: MultiHeadAttention | null = null;
  readonly cross_attn_layer_norm: LayerNorm | null = null;
  readonly mlp: MLP;
  readonly final_layer_norm: LayerNorm;
  private readonly drop: Dropout;

  constructor(config: TransformerBlockConfig) {
    super();
    const c = parseConfig(TransformerBlockConfigSchema, config, 'TransformerBlock config');
    this.norm = c.norm;
    const init = { init: c.init, std: c.std };
    const ln = { dim: c.dim, eps: c.layerNormEps };
    const attention = { dim: c.dim, numHeads: c.numHeads, dropout: c.attentionDropout, ...init };
    this.self_attn = this.addModule('self_attn', new MultiHeadAttention({ ...attention, rng: c.rng.fork('self_attn') }));
    this.self_attn_layer_norm = this.addModule('self_attn_layer_norm', new LayerNorm(ln));
    if (c.crossAttention) {
      this.cross_attn = this.addModule(
        'cross_attn',
        new MultiHeadAttention({ ...attention, kvDim: c.crossDim ?? c.dim, rng: c.rng.fork('cross_attn') }),
      );
      this.cross_attn_layer_norm = this.addModule('cross_attn_layer_norm', new LayerNorm(ln));
    }
    this.mlp = this.addModule(
      'mlp',
      new MLP({
        dim: c.dim,
        hiddenDim: c.mlpDim ?? 4 * c.dim,
        activation: c.activation,
        dropout: c.dropout,
        ...init,
        rng: c.rng.fork('mlp'),
      }),
    );
    this.final_layer_norm = this.addModule('final_layer_norm', new LayerNorm(ln));
    this.drop = this.addModule('dropout', new Dropout({ p: c.dropout, rng: c.rng.fork('dropout') }));
  }

  /** Applies `sublayer` with residual and LayerNorm in the block's order. */
  private residual(x: tf.Tensor, norm: LayerNorm, sublayer: (h: tf.Tensor) => tf.Tensor): tf.Tensor {
    if (this.norm === 'pre') return tf.add(x, sublayer(norm.forward(x)));
    return norm.forward(tf.add(x, sublayer(x)));
  }

  /**
   * x [B, S, dim] -> hidden [B, S, dim]: self-attention, cross-attention to `encoderStates` when
   * the block has it, then the MLP. E_INPUT when a cross-attention block gets no `encoderStates`.
   */
  forward(x: tf.Tensor, options: BlockOptions = {}): BlockOutput {
    if (this.cross_attn && !options.encoderStates) {
      throw new TesseraError('E_INPUT', 'TransformerBlock has cross-attention: pass encoderStates [batch, tokens, crossDim]');
    }
    return tf.tidy(() => {
      const present: Partial<BlockCache> = {};
      let h = this.residual(x, this.self_attn_layer_norm, (y) => {
        const r = this.self_attn.forward(y, {
          keyPaddingMask: options.mask,
          causal: options.causal,
          prefixLength: options.prefixLength,
          past: options.past?.self,
          useCache: options.useCache,
        });
        present.self = r.present;
        return this.drop.forward(r.output);
      });
      if (this.cross_attn && this.cross_attn_layer_norm) {
        const cross = this.cross_attn;
        h = this.residual(h, this.cross_attn_layer_norm, (y) => {
          const r = cross.forward(y, {
            keyValue: options.encoderStates,
            keyPaddingMask: options.encoderMask,
            past: options.past?.cross,
            useCache: options.useCache,
          });
          present.cross = r.present;
          return this.drop.forward(r.output);
        });
      }
      const hidden = this.residual(h, this.final_layer_norm, (y) => this.mlp.forward(y));
      return (options.useCache ? { hidden, present } : { hidden }) as unknown as tf.TensorContainer;
    }) as unknown as BlockOutput;
  }
}
