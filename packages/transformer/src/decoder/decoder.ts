import { Module, matMul, parseConfig, TesseraError, tf } from '@tessera/core';
import { z } from 'zod';
import { blockSettings, STACK_CONFIG_FIELDS, type StackCache, TransformerStack } from '../blocks/transformerStack.js';
import { assertRank } from '../checks.js';
import { TextEmbeddings, TextEncoderConfigSchema } from '../encoders/textEncoder.js';
import { InitSchemeSchema } from '../init.js';
import { LayerNorm } from '../layers/layerNorm.js';
import { Linear } from '../layers/linear.js';
import { PredictionHeadTransform } from '../layers/predictionHeadTransform.js';

export const DecoderConfigSchema = z
  .object({
    ...STACK_CONFIG_FIELDS,
    vocabSize: z.number().int().positive(),
    maxPositions: z.number().int().positive(),
    /** Cross-attention to encoder states in every layer (false: a decoder-only LM). */
    crossAttention: z.boolean().default(true),
    /** Width of the encoder states (default dim). */
    crossDim: z.number().int().positive().optional(),
    norm: z.enum(['pre', 'post']).default('pre'),
    positionEmbedding: z.enum(['learned', 'sinusoidal']).default('learned'),
    /** The output projection reuses the token embedding matrix (no `lm_head.weight`). */
    tieWordEmbeddings: z.boolean().default(true),
    /** BERT's LM head transform (dense, activation, LayerNorm) before the output projection (`head_transform`; BLIP). */
    headTransform: z.boolean().default(false),
    /** The output projection adds a bias: `lm_head.bias` (untied) or `output_bias` (tied), as GIT's and BLIP's heads. */
    outputBias: z.boolean().default(false),
    init: InitSchemeSchema.default('normal'),
  })
  .strict();
/**
 * Config of Decoder: the stack's `dim`, `numHeads`, `numLayers` and `rng` (`mlpDim`,
 * `activation`, dropouts, `layerNormEps`, `std` optional), `vocabSize`, `maxPositions`; defaults
 * pre-LN, cross-attention, learned positions, tied embeddings, `init` normal. E_CONFIG when invalid.
 */
export type DecoderConfig = z.input<typeof DecoderConfigSchema>;

/** Cached keys/values of every layer plus how many positions they hold (`prefix` of them prefix states). */
export interface DecoderCache {
  layers: StackCache;
  length: number;
  prefix?: number;
}

/** Options of `Decoder.forward`: masks, encoder states, a prefix and the KV cache. */
export interface DecoderOptions {
  /** [B, S] (or [B, cached + S] with a cache) 1 = token, 0 = padding. */
  mask?: tf.Tensor;
  /** [B, N, crossDim]; required with cross-attention, on every call. */
  encoderStates?: tf.Tensor;
  /** [B, N] 1 = encoder token, 0 = padding. */
  encoderMask?: tf.Tensor;
  /**
   * [B, P, dim] states placed before the tokens, on the first call only (no cache): every token
   * attends to them and they attend to each other in full, not to the tokens (a prefix LM, GIT's
   * image tokens). Token positions still count from 0; the outputs cover the tokens only.
   */
  prefix?: tf.Tensor;
  /** From the previous call: `ids` continue these positions. */
  cache?: DecoderCache;
  /** Return the updated cache (the caller disposes it with `disposeCache`). */
  useCache?: boolean;
}

/** What `Decoder.forward` returns, for the tokens only (not a prefix). */
export interface DecoderOutput {
  /** [B, S, vocab] */
  logits: tf.Tensor;
  /** [B, S, dim] before the output projection */
  hidden: tf.Tensor;
  /** With `useCache`: pass it to the next call, then free the old one with `disposeCache(old, next)`. */
  cache?: DecoderCache;
}

/**
 * A Transformer decoder: causal self-attention, cross-attention to encoder states, MLP; token
 * logits through the (tied) embedding. With a key/value cache each new token costs one row
 * of attention and projections, whatever the prefix length. Names:
 * `embeddings.token_embedding.weight`, `embeddings.position_embedding.weight`,
 * `decoder.layers.N.{self_attn,cross_attn,mlp,...}`, `final_layer_norm` (pre-LN), `head_transform.*`
 * (with headTransform), `lm_head.weight` (untied; `lm_head.bias` with outputBias), `output_bias` (tied, with outputBias).
 */
export class Decoder extends Module {
  readonly config: z.output<typeof DecoderConfigSchema>;
  readonly embeddings: TextEmbeddings;
  readonly decoder: TransformerStack;
  readonly final_layer_norm: LayerNorm | null = null;
  readonly head_transform: PredictionHeadTransform | null = null;
  readonly lm_head: Linear | null = null;
  readonly output_bias: tf.Variable | null = null;

  constructor(config: DecoderConfig) {
    super();
    const c = parseConfig(DecoderConfigSchema, config, 'Decoder config');
    this.config = c;
    const embeddingConfig = parseConfig(
      TextEncoderConfigSchema,
      {
        vocabSize: c.vocabSize,
        maxPositions: c.maxPositions,
        dim: c.dim,
        numHeads: c.numHeads,
        numLayers: c.numLayers,
        norm: c.norm,
        positionEmbedding: c.positionEmbedding,
        dropout: c.dropout,
        layerNormEps: c.layerNormEps,
        init: c.init,
        std: c.std,
        rng: c.rng.fork('embeddings'),
      },
      'Decoder embeddings',
    );
    this.embeddings = this.addModule('embeddings', new TextEmbeddings(embeddingConfig));
    this.decoder = this.addModule(
      'decoder',
      new TransformerStack(c.numLayers, {
        ...blockSettings(c),
        crossAttention: c.crossAttention,
        crossDim: c.crossDim ?? c.dim,
        rng: c.rng.fork('decoder'),
      }),
    );
    if (c.norm === 'pre') this.final_layer_norm = this.addModule('final_layer_norm', new LayerNorm({ dim: c.dim, eps: c.layerNormEps }));
    if (c.headTransform) {
      this.head_transform = this.addModule(
        'head_transform',
        new PredictionHeadTransform({
          dim: c.dim,
          activation: c.activation,
          layerNormEps: c.layerNormEps,
          init: c.init,
          std: c.std,
          rng: c.rng.fork('head_transform'),
        }),
      );
    }
    if (!c.tieWordEmbeddings) {
      this.lm_head = this.addModule(
        'lm_head',
        new Linear({
          inFeatures: c.dim,
          outFeatures: c.vocabSize,
          bias: c.outputBias,
          init: c.init,
          std: c.std,
          rng: c.rng.fork('lm_head'),
        }),
      );
    } else if (c.outputBias) this.output_bias = this.addParameter('output_bias', tf.zeros([c.vocabSize]));
  }

  /** ids [B, S] int32 -> logits [B, S, vocab]. */
  forward(ids: tf.Tensor, options: DecoderOptions = {}): DecoderOutput {
    assertRank(ids, 2, 'Decoder', 'of token ids [batch, length]');
    if (this.config.crossAttention && !options.encoderStates) {
      throw new TesseraError('E_INPUT', 'Decoder has cross-attention: pass encoderStates [batch, tokens, crossDim] on every call');
    }
    if (options.prefix && options.cache)
      throw new TesseraError('E_INPUT', 'Decoder: pass prefix on the first call only (it is in the cache after)');
    const past = options.cache?.length ?? 0;
    const prefixLength = options.prefix?.shape[1] ?? options.cache?.prefix ?? 0;
    return tf.tidy(() => {
      const embedded = this.embeddings.forward(ids, past - (options.cache?.prefix ?? 0));
      const x = options.prefix ? tf.concat([options.prefix, embedded], 1) : embedded;
      const r = this.decoder.forward(x, {
        mask:
          options.prefix && options.mask
            ? tf.concat([tf.ones([ids.shape[0] as number, prefixLength], options.mask.dtype), options.mask], 1)
            : options.mask,
        causal: true,
        prefixLength,
        encoderStates: options.encoderStates,
        encoderMask: options.encoderMask,
        past: options.cache?.layers,
        useCache: options.useCache,
      });
      const tokens = options.prefix ? tf.slice(r.hidden, [0, prefixLength, 0], [-1, -1, -1]) : r.hidden;
      const hidden = this.final_layer_norm ? this.final_layer_norm.forward(tokens) : tokens;
      const head = this.head_transform ? this.head_transform.forward(hidden) : hidden;
      let logits = this.lm_head ? this.lm_head.forward(head) : matMul(head, this.embeddings.token_embedding.weight, false, true);
      if (this.output_bias) logits = tf.add(logits, this.output_bias);
      const out: DecoderOutput = { logits, hidden };
      if (options.useCache) {
        const length = past + (options.prefix ? prefixLength : 0) + (ids.shape[1] as number);
        out.cache = { layers: r.present as StackCache, length, ...(prefixLength ? { prefix: prefixLength } : {}) };
      }
      return out as unknown as tf.TensorContainer;
    }) as unknown as DecoderOutput;
  }
}

function cacheTensors(cache: DecoderCache): Set<tf.Tensor> {
  const out = new Set<tf.Tensor>();
  for (const layer of cache.layers) {
    for (const kv of [layer.self, layer.cross]) if (kv) for (const t of [kv.key, kv.value]) out.add(t);
  }
  return out;
}

/**
 * Frees a cache's tensors, except those `next` still uses (a step reuses the cross-attention
 * keys of the previous cache): `disposeCache(old, next)` after each generation step.
 */
export function disposeCache(cache: DecoderCache | undefined, next?: DecoderCache): void {
  if (!cache) return;
  const keep = next ? cacheTensors(next) : new Set<tf.Tensor>();
  for (const t of cacheTensors(cache)) if (!keep.has(t)) t.dispose();
}
