import { Module, parseConfig, SeededRandom, TesseraError, tf } from '@tessera/core';
import { ACTIVATIONS, Decoder, generate, VisionEncoder } from '@tessera/transformer';
import { z } from 'zod';
import { type CaptionGenerateOptions, type CaptionModel, captionGenerateConfig, trimEos } from './captionModel.js';

const int = z.number().int().positive();

/** BLIP's ViT: class token, pre-LN blocks, a LayerNorm over all output tokens. */
const blipVisionSchema = z
  .object({
    imageSize: int,
    patchSize: int,
    channels: int.default(3),
    dim: int,
    numHeads: int,
    numLayers: int,
    mlpDim: int.optional(),
    activation: z.enum(ACTIVATIONS).default('gelu'),
    layerNormEps: z.number().positive().default(1e-5),
  })
  .strict();

/** BLIP's BERT decoder: post-LN, cross-attention to the image tokens in every layer, BERT's LM head. */
const blipTextSchema = z
  .object({
    vocabSize: int,
    maxPositions: int,
    dim: int,
    numHeads: int,
    numLayers: int,
    mlpDim: int.optional(),
    activation: z.enum(ACTIVATIONS).default('gelu'),
    layerNormEps: z.number().positive().default(1e-12),
  })
  .strict();

/**
 * A BLIP captioner (transformers' BlipForConditionalGeneration, e.g.
 * Salesforce/blip-image-captioning-base), as `blipFromHfConfig` reads it from config.json.
 * vision.imageSize must be a multiple of vision.patchSize, and the special ids below text.vocabSize.
 */
export const blipCaptionerConfigSchema = z
  .object({
    vision: blipVisionSchema,
    text: blipTextSchema,
    /** The LM head reuses the word embeddings (no `lm_head.weight`). */
    tieWordEmbeddings: z.boolean().default(true),
    /** The decoder's start token ([DEC], HF text_config.bos_token_id). */
    bosTokenId: z.number().int().nonnegative(),
    /** Ends a caption ([SEP], HF sep_token_id: BLIP generates with eos = sep). */
    sepTokenId: z.number().int().nonnegative(),
    padTokenId: z.number().int().nonnegative().default(0),
    /** Default caption length in new tokens (transformers' default for the folder: 20, or generation_config.json's). */
    maxNewTokens: z.number().int().positive().default(20),
    dropout: z.number().min(0).lt(1).default(0),
    seed: z.number().int().default(0),
  })
  .strict()
  .refine((c) => c.vision.imageSize % c.vision.patchSize === 0, {
    message: 'vision.imageSize must be divisible by vision.patchSize',
    path: ['vision', 'patchSize'],
  })
  .refine((c) => [c.bosTokenId, c.sepTokenId, c.padTokenId].every((id) => id < c.text.vocabSize), {
    message: 'bosTokenId, sepTokenId and padTokenId must be ids of the vocabulary (< text.vocabSize)',
    path: ['bosTokenId'],
  });
/** A validated BLIP captioner config with its defaults filled in. */
export type BlipCaptionerConfig = z.output<typeof blipCaptionerConfigSchema>;
/** A BLIP captioner config as given to `new BlipCaptioner` (fields with defaults may be left out); invalid is E_CONFIG. */
export type BlipCaptionerConfigInput = z.input<typeof blipCaptionerConfigSchema>;

/**
 * Hugging Face BLIP image captioner (BlipForConditionalGeneration) on the shared layers: a
 * VisionEncoder (`vision_model.*`) whose tokens, after its final LayerNorm, a post-LN
 * cross-attention Decoder with BERT's LM head (`text_decoder.*`) reads. Captions start with
 * [DEC] and end at [SEP]. BLIP reads one image: clips are [B, 1, 3, H, W] (the app passes the
 * middle frame of a video).
 */
export class BlipCaptioner extends Module implements CaptionModel {
  readonly config: BlipCaptionerConfig;
  readonly vision_model: VisionEncoder;
  readonly text_decoder: Decoder;
  /** Frames per clip the model reads. */
  readonly numFrames = 1;
  readonly specialIds: CaptionModel['specialIds'];

  constructor(config: BlipCaptionerConfigInput) {
    super();
    const c = parseConfig(blipCaptionerConfigSchema, config, 'BLIP captioner config');
    this.config = c;
    this.specialIds = { bos: c.bosTokenId, eos: c.sepTokenId, pad: c.padTokenId };
    const rng = new SeededRandom(c.seed);
    const v = c.vision;
    this.vision_model = this.addModule(
      'vision_model',
      new VisionEncoder({
        imageSize: v.imageSize,
        patchSize: v.patchSize,
        channels: v.channels,
        dim: v.dim,
        numHeads: v.numHeads,
        numLayers: v.numLayers,
        mlpDim: v.mlpDim,
        activation: v.activation,
        layerNormEps: v.layerNormEps,
        classToken: true,
        patchBias: true,
        pooling: 'cls',
        dropout: c.dropout,
        rng: rng.fork('vision'),
      }),
    );
    const t = c.text;
    this.text_decoder = this.addModule(
      'text_decoder',
      new Decoder({
        vocabSize: t.vocabSize,
        maxPositions: t.maxPositions,
        dim: t.dim,
        numHeads: t.numHeads,
        numLayers: t.numLayers,
        mlpDim: t.mlpDim,
        activation: t.activation,
        layerNormEps: t.layerNormEps,
        crossAttention: true,
        crossDim: v.dim,
        norm: 'post',
        tieWordEmbeddings: c.tieWordEmbeddings,
        headTransform: true,
        outputBias: true,
        dropout: c.dropout,
        rng: rng.fork('decoder'),
      }),
    );
  }

  /** Input images are imageSize x imageSize. */
  get imageSize(): number {
    return this.config.vision.imageSize;
  }

  get vocabSize(): number {
    return this.config.text.vocabSize;
  }

  /** Clips [B, 1, 3, H, W] (or images [B, 3, H, W]) -> image tokens [B, 1 + patches, vision dim]. */
  encode(pixels: tf.Tensor): tf.Tensor {
    if (pixels.rank === 5 && pixels.shape[1] !== 1) {
      throw new TesseraError(
        'E_INPUT',
        `BLIP captions one image: pass [batch, 1, 3, H, W], got ${pixels.shape[1]} frames per clip (sample the middle frame of a video)`,
        { details: { shape: pixels.shape } },
      );
    }
    if (pixels.rank !== 5 && pixels.rank !== 4) {
      throw new TesseraError('E_SHAPE', `BLIP: pixels must be [batch, 1, 3, H, W] or [batch, 3, H, W], got [${pixels.shape.join(', ')}]`);
    }
    return tf.tidy(() => {
      const images = pixels.rank === 5 ? tf.squeeze(pixels, [1]) : pixels;
      return this.vision_model.tokens(images);
    });
  }

  /** Teacher-forced logits [B, S, vocab] of ids [B, S] (starting with [DEC]); mask [B, S] 1 = token, 0 = padding. */
  logits(pixels: tf.Tensor, ids: tf.Tensor, mask?: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.text_decoder.forward(ids, { encoderStates: this.encode(pixels), mask }).logits);
  }

  /** The same as `logits`: teacher-forced logits [B, S, vocab] of images and ids [B, S]. */
  forward(pixels: tf.Tensor, ids: tf.Tensor, mask?: tf.Tensor): tf.Tensor {
    return this.logits(pixels, ids, mask);
  }

  /**
   * Caption token ids per image ([DEC] excluded, the closing [SEP] trimmed), decoded with the
   * KV cache from [DEC] until [SEP] as BlipForConditionalGeneration.generate (which sets no
   * minimum length: minNewTokens defaults to 0 here; maxNewTokens to the config's).
   */
  generate(pixels: tf.Tensor, options: CaptionGenerateOptions = {}): number[][] {
    const maxNewTokens = Math.min(this.config.maxNewTokens, this.config.text.maxPositions - 1);
    const config = captionGenerateConfig(options, this.specialIds, { maxNewTokens, minNewTokens: 0 });
    const states = this.encode(pixels);
    try {
      const prompts = Array.from({ length: states.shape[0] as number }, () => [config.bosTokenId]);
      return trimEos(generate(this.text_decoder, { encoderStates: states, prompts }, config).sequences, this.specialIds.eos);
    } finally {
      states.dispose();
    }
  }
}
