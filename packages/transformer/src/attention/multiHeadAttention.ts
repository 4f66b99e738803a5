import { fusedAttention, Module, matMul, parseConfig, tf } from '@tessera/core';
import { z } from 'zod';
import { assertLastDim, assertRank, shapeError } from '../checks.js';
import { InitSchemeSchema, RngSchema } from '../init.js';
import { Dropout } from '../layers/dropout.js';
import { Linear } from '../layers/linear.js';
import { causalBias, paddingBias } from './masks.js';

export const MultiHeadAttentionConfigSchema = z
  .object({
    dim: z.number().int().positive(),
    numHeads: z.number().int().positive(),
    /** Width of the key/value source for cross-attention (default: dim). */
    kvDim: z.number().int().positive().optional(),
    bias: z.boolean().default(true),
    /** Dropout on the attention weights. */
    dropout: z.number().min(0).lt(1).default(0),
    init: InitSchemeSchema.default('kaiming_uniform'),
    std: z.number().positive().default(0.02),
    rng: RngSchema,
  })
  .strict()
  .refine((c) => c.dim % c.numHeads === 0, { message: 'dim must be divisible by numHeads', path: ['numHeads'] });
/**
 * Config of MultiHeadAttention: `dim`, `numHeads` (must divide dim) and `rng`; `kvDim` for a
 * cross-attention source of another width, `bias` (default true), `dropout` on the attention
 * weights (default 0), `init` (default kaiming_uniform) and `std` (0.02). E_CONFIG when invalid.
 */
export type MultiHeadAttentionConfig = z.input<typeof MultiHeadAttentionConfigSchema>;

/** Projected keys and values: what a KV cache stores. */
export interface KeyValue {
  /** `[B, heads, headDim, S]`: stored transposed, so scores q·k need no transpose of the cache. */
  key: tf.Tensor;
  /** [B, heads, S, headDim] */
  value: tf.Tensor;
}

/** Options of `MultiHeadAttention.forward`: the cross-attention source, masks, an extra bias and the KV cache. */
export interface AttentionOptions {
  /** Cross-attention source [B, Sk, kvDim]; omitted for self-attention. */
  keyValue?: tf.Tensor;
  /** [B, Sk] with 1 for real keys and 0 for padding (Sk counts cached keys too). */
  keyPaddingMask?: tf.Tensor;
  /** Each query sees only keys at or before its own position. */
  causal?: boolean;
  /** With `causal`: the first positions that see each other in full (a prefix LM's prefix, e.g. GIT's image tokens). */
  prefixLength?: number;
  /** Additive bias broadcastable to [B, heads, Sq, Sk]. */
  bias?: tf.Tensor;
  /** Also return the attention weights as `weights`. */
  returnWeights?: boolean;
  /**
   * Cached projections. Self-attention: keys/values of earlier positions, the new ones are
   * appended. Cross-attention: the source's projections, used instead of projecting `keyValue`.
   */
  past?: KeyValue;
  /** Return `present` (the keys and values to cache). */
  useCache?: boolean;
}

/** What `MultiHeadAttention.forward` returns. */
export interface AttentionOutput {
  /** [B, Sq, dim] */
  output: tf.Tensor;
  /** [B, heads, Sq, Sk], when asked for. */
  weights?: tf.Tensor;
  /**
   * With `useCache`: keys and values for the next call. In cross-attention with `past` these
   * are the same tensors as `past`; otherwise new ones, owned by the caller's scope.
   */
  present?: KeyValue;
}

/**
 * Multi-head scaled dot-product attention with separate q/k/v/out projections
 * (`q_proj`, `k_proj`, `v_proj`, `out_proj`), scores scaled by 1/sqrt(headDim).
 * Heads are split with 4-D transposes only (5-D ones are slow on wasm).
 */
export class MultiHeadAttention extends Module {
  readonly dim: number;
  readonly numHeads: number;
  readonly headDim: number;
  readonly kvDim: number;
  readonly q_proj: Linear;
  readonly k_proj: Linear;
  readonly v_proj: Linear;
  readonly out_proj: Linear;
  private readonly attnDropout: Dropout;

  constructor(config: MultiHeadAttentionConfig) {
    super();
    const c = parseConfig(MultiHeadAttentionConfigSchema, config, 'MultiHeadAttention config');
    this.dim = c.dim;
    this.numHeads = c.numHeads;
    this.headDim = c.dim / c.numHeads;
    this.kvDim = c.kvDim ?? c.dim;
    const common = { bias: c.bias, init: c.init, std: c.std, rng: c.rng };
    this.q_proj = this.addModule('q_proj', new Linear({ inFeatures: c.dim, outFeatures: c.dim, ...common }));
    this.k_proj = this.addModule('k_proj', new Linear({ inFeatures: this.kvDim, outFeatures: c.dim, ...common }));
    this.v_proj = this.addModule('v_proj', new Linear({ inFeatures: this.kvDim, outFeatures: c.dim, ...common }));
    this.out_proj = this.addModule('out_proj', new Linear({ inFeatures: c.dim, outFeatures: c.dim, ...common }));
    this.attnDropout = this.addModule('dropout', new Dropout({ p: c.dropout, rng: c.rng.fork('attention-dropout') }));
  }

  /** [B, S, dim] -> [B, heads, S, headDim], or [B, heads, headDim, S] with `keys` (one 4-D transpose either way). */
  private splitHeads(x: tf.Tensor, keys = false): tf.Tensor {
    const [batch, length] = x.shape as [number, number, number];
    return tf.transpose(tf.reshape(x, [batch, length, this.numHeads, this.headDim]), keys ? [0, 2, 3, 1] : [0, 2, 1, 3]);
  }

  /**
   * Attends from `query` [B, Sq, dim] to itself, or to `options.keyValue` [B, Sk, kvDim]
   * (cross-attention): output [B, Sq, dim]. E_SHAPE on mismatched shapes. At inference with only
   * masks asked for, the attention after the projections is one native kernel (with @tessera/native).
   */
  forward(query: tf.Tensor, options: AttentionOptions = {}): AttentionOutput {
    assertRank(query, 3, 'MultiHeadAttention', '[batch, queries, dim]');
    assertLastDim(query, this.dim, 'MultiHeadAttention query');
    const { keyValue, past } = options;
    if (keyValue) {
      assertRank(keyValue, 3, 'MultiHeadAttention', '[batch, keys, kvDim]');
      assertLastDim(keyValue, this.kvDim, 'MultiHeadAttention keyValue');
      if (keyValue.shape[0] !== query.shape[0]) {
        throw shapeError('MultiHeadAttention', `query batch ${query.shape[0]} and keyValue batch ${keyValue.shape[0]} differ`);
      }
    }
    const [batch, queries] = query.shape as [number, number, number];
    const keysIn = keyValue ? (keyValue.shape[1] as number) : queries;
    // Checked here so the fused and the plain path refuse it alike (E_SHAPE, as causalBias does).
    if (options.causal && !past && queries > keysIn) {
      throw shapeError('MultiHeadAttention', `causal attention needs at least as many keys (${keysIn}) as queries (${queries})`);
    }
    const mask = options.keyPaddingMask;
    if (mask && !past && (mask.shape[0] !== batch || mask.shape[1] !== keysIn)) {
      throw shapeError('MultiHeadAttention', `keyPaddingMask must be [${batch}, ${keysIn}], got [${mask.shape.join(', ')}]`);
    }
    return tf.tidy(() => {
      // Inference without cache, weights, extra bias or a prefix-LM mask (GIT): one native kernel from the projections on.
      const dropping = this.attnDropout.training && this.attnDropout.p > 0;
      const plainMask = !options.prefixLength;
      if (!past && !options.useCache && !options.returnWeights && !options.bias && !dropping && plainMask) {
        const source = keyValue ?? query;
        const context = fusedAttention(
          this.q_proj.forward(query),
          this.k_proj.forward(source),
          this.v_proj.forward(source),
          this.numHeads,
          {
            keyPaddingMask: mask,
            causal: options.causal,
          },
        );
        if (context) return { output: this.out_proj.forward(context) } as unknown as tf.TensorContainer;
      }
      const q = tf.mul(this.splitHeads(this.q_proj.forward(query)), 1 / Math.sqrt(this.headDim));
      let k: tf.Tensor;
      let v: tf.Tensor;
      if (keyValue && past) {
        k = past.key;
        v = past.value;
      } else {
        const source = keyValue ?? query;
        k = this.splitHeads(this.k_proj.forward(source), true);
        v = this.splitHeads(this.v_proj.forward(source));
        if (past) {
          k = tf.concat([past.key, k], 3);
          v = tf.concat([past.value, v], 2);
        }
      }
      const keys = k.shape[3] as number;
      let scores = matMul(q, k);
      if (options.keyPaddingMask) {
        if (options.keyPaddingMask.shape[0] !== batch || options.keyPaddingMask.shape[1] !== keys) {
          throw shapeError(
            'MultiHeadAttention',
            `keyPaddingMask must be [${batch}, ${keys}], got [${options.keyPaddingMask.shape.join(', ')}]`,
          );
        }
        scores = tf.add(scores, paddingBias(options.keyPaddingMask));
      }
      if (options.causal) scores = tf.add(scores, causalBias(queries, keys, options.prefixLength));
      if (options.bias) scores = tf.add(scores, options.bias);
      const weights = tf.softmax(scores, -1);
      const context = matMul(this.attnDropout.forward(weights), v);
      const merged = tf.reshape(tf.transpose(context, [0, 2, 1, 3]), [batch, queries, this.dim]);
      const result: AttentionOutput = { output: this.out_proj.forward(merged) };
      if (options.returnWeights) result.weights = weights;
      if (options.useCache) result.present = { key: k, value: v };
      return result as unknown as tf.TensorContainer;
    }) as unknown as AttentionOutput;
  }
}
