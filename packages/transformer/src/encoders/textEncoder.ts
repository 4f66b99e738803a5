import { Module, parseConfig, TesseraError, tf } from '@tessera/core';
import { z } from 'zod';
import { blockSettings, STACK_CONFIG_FIELDS, TransformerStack } from '../blocks/transformerStack.js';
import { assertRank } from '../checks.js';
import { InitSchemeSchema } from '../init.js';
import { Dropout } from '../layers/dropout.js';
import { LayerNorm } from '../layers/layerNorm.js';
import { LearnedPositionEmbedding } from '../layers/learnedPositionEmbedding.js';
import type { PositionEmbedding } from '../layers/positionEmbedding.js';
import { SinusoidalPositionEmbedding } from '../layers/sinusoidalPositionEmbedding.js';
import { TokenEmbedding } from '../layers/tokenEmbedding.js';
import type { EncoderOutput } from './encoderOutput.js';
import { POOLINGS, poolHidden, poolingWeights } from './pooling.js';

export const TextEncoderConfigSchema = z
  .object({
    ...STACK_CONFIG_FIELDS,
    vocabSize: z.number().int().positive(),
    maxPositions: z.number().int().positive(),
    /** false: bidirectional (BERT); true: each token sees only earlier ones (CLIP text). */
    causal: z.boolean().default(false),
    pooling: z.enum(POOLINGS).default('cls'),
    /** For 'eos' pooling: the EOS id; without it, the last real token is pooled. */
    eosTokenId: z.number().int().nonnegative().optional(),
    /** The padding id; needed by `padToMax`. */
    padTokenId: z.number().int().nonnegative().optional(),
    /**
     * SigLIP: every text is padded to `maxPositions` with `padTokenId` and the pads are attended
     * (SigLIP was trained so, without a padding mask); a mask passed to `forward` is then ignored.
     */
    padToMax: z.boolean().default(false),
    norm: z.enum(['pre', 'post']).default('pre'),
    /** Rows of the token-type (segment) table added to every token (BERT: 2); 0 = no table. */
    typeVocabSize: z.number().int().nonnegative().default(0),
    positionEmbedding: z.enum(['learned', 'sinusoidal']).default('learned'),
    init: InitSchemeSchema.default('normal'),
  })
  .strict()
  .refine((c) => !c.padToMax || c.padTokenId !== undefined, { message: 'padToMax needs padTokenId', path: ['padTokenId'] });
/**
 * Config of TextEncoder: the stack's `dim`, `numHeads`, `numLayers` and `rng` (`mlpDim`,
 * `activation`, dropouts, `layerNormEps`, `std` optional), `vocabSize`, `maxPositions`; defaults
 * bidirectional, pre-LN, 'cls' pooling, learned positions, `init` normal. E_CONFIG when invalid.
 */
export type TextEncoderConfig = z.input<typeof TextEncoderConfigSchema>;

/** Token, token-type (BERT segments, optional) and position embeddings (+ LayerNorm for post-LN, as BERT), dropout. */
export class TextEmbeddings extends Module {
  readonly token_embedding: TokenEmbedding;
  readonly token_type_embedding: TokenEmbedding | null = null;
  readonly position_embedding: PositionEmbedding;
  readonly layer_norm: LayerNorm | null = null;
  private readonly drop: Dropout;

  constructor(c: z.output<typeof TextEncoderConfigSchema>) {
    super();
    const init = { init: c.init, std: c.std };
    this.token_embedding = this.addModule(
      'token_embedding',
      new TokenEmbedding({ vocabSize: c.vocabSize, dim: c.dim, ...init, rng: c.rng.fork('tokens') }),
    );
    if (c.typeVocabSize > 0) {
      this.token_type_embedding = this.addModule(
        'token_type_embedding',
        new TokenEmbedding({ vocabSize: c.typeVocabSize, dim: c.dim, ...init, rng: c.rng.fork('token-types') }),
      );
    }
    this.position_embedding = this.addModule(
      'position_embedding',
      c.positionEmbedding === 'learned'
        ? new LearnedPositionEmbedding({ maxPositions: c.maxPositions, dim: c.dim, ...init, rng: c.rng.fork('positions') })
        : new SinusoidalPositionEmbedding({ maxPositions: c.maxPositions, dim: c.dim }),
    );
    if (c.norm === 'post') this.layer_norm = this.addModule('layer_norm', new LayerNorm({ dim: c.dim, eps: c.layerNormEps }));
    this.drop = this.addModule('dropout', new Dropout({ p: c.dropout, rng: c.rng.fork('embedding-dropout') }));
  }

  /**
   * ids [B, S] -> [B, S, dim]; `offset` = tokens already cached (generation); `tokenTypeIds`
   * [B, S] int32 (default all 0, as BERT) need a token-type table.
   */
  forward(ids: tf.Tensor, offset = 0, tokenTypeIds?: tf.Tensor): tf.Tensor {
    if (tokenTypeIds && !this.token_type_embedding) {
      throw new TesseraError('E_INPUT', 'TextEmbeddings: tokenTypeIds given, but the encoder has no token-type table (typeVocabSize 0)');
    }
    if (tokenTypeIds && (tokenTypeIds.rank !== 2 || tokenTypeIds.shape[0] !== ids.shape[0] || tokenTypeIds.shape[1] !== ids.shape[1])) {
      throw new TesseraError(
        'E_SHAPE',
        `TextEmbeddings: tokenTypeIds must be [${ids.shape.join(', ')}] like the ids, got [${tokenTypeIds.shape.join(', ')}]`,
      );
    }
    return tf.tidy(() => {
      let x = this.token_embedding.forward(ids);
      // Summed in BERT's order: words + token types, then positions.
      if (this.token_type_embedding) x = tf.add(x, this.token_type_embedding.forward(tokenTypeIds ?? tf.zerosLike(ids)));
      x = this.position_embedding.forward(x, offset);
      if (this.layer_norm) x = this.layer_norm.forward(x);
      return this.drop.forward(x);
    });
  }
}

/** Converts a 0/1 mask given as any dtype to int32 host values, checking its shape. */
export function maskValues(mask: tf.Tensor | undefined, batch: number, length: number, who: string): Int32Array {
  if (!mask) return new Int32Array(batch * length).fill(1);
  if (mask.rank !== 2 || mask.shape[0] !== batch || mask.shape[1] !== length) {
    throw new TesseraError(
      'E_SHAPE',
      `${who}: mask must be [${batch}, ${length}] (1 = token, 0 = padding), got [${mask.shape.join(', ')}]`,
    );
  }
  return Int32Array.from(mask.dataSync(), (v) => (v ? 1 : 0));
}

/** Rows of `given` ids copied into rows of `length`, the rest filled with `pad`. */
function padRows(ids: Int32Array, batch: number, given: number, length: number, pad: number): Int32Array {
  if (given === length) return ids;
  const out = new Int32Array(batch * length).fill(pad);
  for (let b = 0; b < batch; b++) out.set(ids.subarray(b * given, (b + 1) * given), b * length);
  return out;
}

/**
 * A Transformer text encoder: bidirectional (BERT-like, CLS pooling, post-LN option) or causal
 * (CLIP-like, EOS pooling), or SigLIP's (bidirectional, fixed length, last-position pooling).
 * Names: `embeddings.token_embedding.weight`, `embeddings.token_type_embedding.weight`
 * (typeVocabSize > 0), `embeddings.position_embedding.weight`, `embeddings.layer_norm.*`
 * (post-LN), `encoder.layers.N.*`, `final_layer_norm.*` (pre-LN).
 */
export class TextEncoder extends Module {
  readonly config: z.output<typeof TextEncoderConfigSchema>;
  readonly embeddings: TextEmbeddings;
  readonly encoder: TransformerStack;
  readonly final_layer_norm: LayerNorm | null = null;

  constructor(config: TextEncoderConfig) {
    super();
    const c = parseConfig(TextEncoderConfigSchema, config, 'TextEncoder config');
    this.config = c;
    this.embeddings = this.addModule('embeddings', new TextEmbeddings(c));
    this.encoder = this.addModule('encoder', new TransformerStack(c.numLayers, { ...blockSettings(c), rng: c.rng.fork('encoder') }));
    if (c.norm === 'pre') this.final_layer_norm = this.addModule('final_layer_norm', new LayerNorm({ dim: c.dim, eps: c.layerNormEps }));
  }

  /**
   * ids [B, S] int32; mask [B, S] 1 = token, 0 = padding (default: all tokens); tokenTypeIds
   * [B, S] int32 segment ids (BERT; default all 0).
   */
  forward(ids: tf.Tensor, mask?: tf.Tensor, tokenTypeIds?: tf.Tensor): EncoderOutput {
    assertRank(ids, 2, 'TextEncoder', 'of token ids [batch, length]');
    const [batch, given] = ids.shape as [number, number];
    // Checked (and read once) at the given length; padToMax attends to every position instead.
    const givenMask = maskValues(mask, batch, given, 'TextEncoder');
    const { padToMax, maxPositions } = this.config;
    if (padToMax && given > maxPositions) {
      throw new TesseraError('E_INPUT', `TextEncoder: ${given} tokens exceed maxPositions ${maxPositions}; truncate the texts first`);
    }
    const length = padToMax ? maxPositions : given;
    const idsHost = padToMax
      ? padRows(ids.dataSync() as Int32Array, batch, given, length, this.config.padTokenId as number)
      : (ids.dataSync() as Int32Array);
    const maskHost = padToMax ? new Int32Array(batch * length).fill(1) : givenMask;
    const weights = poolingWeights(this.config.pooling, maskHost, batch, length, idsHost, this.config.eosTokenId);
    return tf.tidy(() => {
      const keyMask = tf.tensor(maskHost, [batch, length], 'int32');
      const input = padToMax ? tf.tensor(idsHost, [batch, length], 'int32') : ids;
      let hidden = this.encoder.forward(this.embeddings.forward(input, 0, tokenTypeIds), {
        mask: keyMask,
        causal: this.config.causal,
      }).hidden;
      if (this.final_layer_norm) hidden = this.final_layer_norm.forward(hidden);
      return { hidden, pooled: poolHidden(hidden, weights), mask: keyMask } as unknown as tf.TensorContainer;
    }) as unknown as EncoderOutput;
  }
}
