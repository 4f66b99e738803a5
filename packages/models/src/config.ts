import { parseConfig } from '@tessera/core';
import { ACTIVATIONS } from '@tessera/transformer';
import { z } from 'zod';

const positiveInt = z.number().int().positive();

/** The vision tower of a model config: a ViT over `imageSize` px images cut into `patchSize` patches. */
export const visionTowerSchema = z
  .object({
    imageSize: positiveInt,
    patchSize: positiveInt,
    channels: positiveInt.default(3),
    dim: positiveInt,
    numHeads: positiveInt,
    numLayers: positiveInt,
    mlpDim: positiveInt.optional(),
    activation: z.enum(ACTIVATIONS).default('gelu'),
    layerNormEps: z.number().positive().default(1e-5),
    /** The patch projection has a bias (SigLIP, ViT); CLIP's has none. */
    patchBias: z.boolean().default(true),
    /** A learned class token is prepended (SigLIP has none). */
    classToken: z.boolean().default(true),
    /** 'attention': SigLIP's multihead attention pooling head. */
    pooling: z.enum(['cls', 'mean', 'attention']).default('cls'),
    dropout: z.number().min(0).lt(1).default(0),
    /** A LayerNorm before the first block (CLIP's pre_layrnorm). */
    preNorm: z.boolean().default(false),
  })
  .strict()
  .refine((v) => v.classToken || v.pooling !== 'cls', { message: "pooling 'cls' needs classToken: true", path: ['pooling'] })
  .refine((v) => v.imageSize % v.patchSize === 0, { message: 'imageSize must be a multiple of patchSize', path: ['patchSize'] })
  .refine((v) => v.dim % v.numHeads === 0, { message: 'dim must be a multiple of numHeads', path: ['numHeads'] });

/** The text tower: a Transformer over token ids (vocabSize comes from the tokenizer). */
export const textTowerSchema = z
  .object({
    vocabSize: positiveInt,
    maxPositions: positiveInt,
    dim: positiveInt,
    numHeads: positiveInt,
    numLayers: positiveInt,
    mlpDim: positiveInt.optional(),
    causal: z.boolean().default(false),
    /** 'argmax': the highest id (OpenAI CLIP's legacy EOS rule, eos_token_id 2 in a HF config); 'last': the last position (SigLIP, with padToMax). */
    pooling: z.enum(['cls', 'mean', 'eos', 'argmax', 'last']).default('cls'),
    eosTokenId: z.number().int().nonnegative().optional(),
    /** 'pre': x + f(LN(x)) with a final LayerNorm (CLIP); 'post': LN(x + f(x)) after an embedding LayerNorm (BERT). */
    norm: z.enum(['pre', 'post']).default('pre'),
    /** Rows of BERT's token-type (segment) table; 0 = none. */
    typeVocabSize: z.number().int().nonnegative().default(0),
    /** The id that pads batches (HF pad_token_id): kept for export, and what padToMax pads with. */
    padTokenId: z.number().int().nonnegative().optional(),
    /** SigLIP: texts padded to maxPositions with padTokenId, pads attended (no padding mask). */
    padToMax: z.boolean().default(false),
    dropout: z.number().min(0).lt(1).default(0),
    activation: z.enum(ACTIVATIONS).default('gelu'),
    layerNormEps: z.number().positive().default(1e-5),
  })
  .strict()
  .refine((v) => !v.padToMax || v.padTokenId !== undefined, { message: 'padToMax needs padTokenId', path: ['padTokenId'] })
  .refine((v) => v.dim % v.numHeads === 0, { message: 'dim must be a multiple of numHeads', path: ['numHeads'] });

/** How a tower's pooled output reaches the shared space: bias-free linear (CLIP), none, or linear with bias. */
export const PROJECTIONS = ['linear', 'none', 'linear_bias'] as const;
/**
 * One of `PROJECTIONS`: 'linear' (bias-free, CLIP's `visual_projection` / `text_projection`),
 * 'none' (the pooled output is the embedding; the tower's dim must equal `embedDim`) or
 * 'linear_bias' (SigLIP's text `head`).
 */
export type Projection = (typeof PROJECTIONS)[number];

/** A CLIP dual encoder: two towers projected to a shared `embedDim`, with a learnable temperature. */
export const clipConfigSchema = z
  .object({
    type: z.literal('clip'),
    name: z.string().optional(),
    embedDim: positiveInt,
    vision: visionTowerSchema,
    text: textTowerSchema,
    /** log(1 / temperature) at start (CLIP: log(1/0.07)). */
    initLogitScale: z.number().default(Math.log(1 / 0.07)),
    /** Clamp of the learned log-scale under softmax scoring (CLIP: log(100)); SigLIP does not clamp. */
    maxLogitScale: z.number().default(Math.log(100)),
    /** 'softmax': CLIP's InfoNCE over the batch; 'sigmoid': SigLIP's pairwise loss and scores with `logit_bias`. */
    scoring: z.enum(['softmax', 'sigmoid']).default('softmax'),
    /** Start value of `logit_bias` under sigmoid scoring (SigLIP: -10). */
    initLogitBias: z.number().default(-10),
    visionProjection: z.enum(PROJECTIONS).default('linear'),
    textProjection: z.enum(PROJECTIONS).default('linear'),
    seed: z.number().int().default(0),
  })
  .strict()
  .refine((c) => c.visionProjection !== 'none' || c.vision.dim === c.embedDim, {
    message: "visionProjection 'none' needs vision.dim equal to embedDim",
    path: ['visionProjection'],
  })
  .refine((c) => c.textProjection !== 'none' || c.text.dim === c.embedDim, {
    message: "textProjection 'none' needs text.dim equal to embedDim",
    path: ['textProjection'],
  });

/**
 * One tower alone (Hugging Face CLIPVisionModel / CLIPTextModel, with or without projection):
 * `encodeImage` or `encodeText` gives its pooled output, projected to `embedDim` unless the
 * projection is 'none'.
 */
export const visionTowerModelSchema = z
  .object({
    type: z.literal('vision_tower'),
    name: z.string().optional(),
    embedDim: positiveInt.optional(),
    vision: visionTowerSchema,
    visionProjection: z.enum(PROJECTIONS).default('linear'),
    seed: z.number().int().default(0),
  })
  .strict()
  .refine((c) => c.visionProjection === 'none' || c.embedDim !== undefined, { message: 'a projection needs embedDim', path: ['embedDim'] });

/**
 * A text tower alone (`type: "text_tower"`; Hugging Face CLIPTextModel[WithProjection] or
 * BertModel): `encodeText` gives its pooled output, projected to `embedDim` unless
 * `textProjection` is 'none'.
 */
export const textTowerModelSchema = z
  .object({
    type: z.literal('text_tower'),
    name: z.string().optional(),
    embedDim: positiveInt.optional(),
    text: textTowerSchema,
    textProjection: z.enum(PROJECTIONS).default('linear'),
    seed: z.number().int().default(0),
  })
  .strict()
  .refine((c) => c.textProjection === 'none' || c.embedDim !== undefined, { message: 'a projection needs embedDim', path: ['embedDim'] });

/** An ALBEF fusion model: CLIP towers + a cross-attention fusion encoder with ITM and MLM heads. */
export const albefConfigSchema = z
  .object({
    type: z.literal('albef'),
    name: z.string().optional(),
    embedDim: positiveInt,
    vision: visionTowerSchema,
    text: textTowerSchema,
    fusion: z
      .object({
        numLayers: positiveInt,
        numHeads: positiveInt,
        mlpDim: positiveInt.optional(),
      })
      .strict(),
    initLogitScale: z.number().default(Math.log(1 / 0.07)),
    maxLogitScale: z.number().default(Math.log(100)),
    /** Weights of the three losses (ALBEF: all 1). */
    lossWeights: z
      .object({ itc: z.number().min(0).default(1), itm: z.number().min(0).default(1), mlm: z.number().min(0).default(1) })
      .strict()
      .default({ itc: 1, itm: 1, mlm: 1 }),
    /** Fraction of text tokens predicted by MLM (BERT: 0.15). */
    maskProbability: z.number().gt(0).lt(1).default(0.15),
    seed: z.number().int().default(0),
  })
  .strict();

/**
 * A video captioner (`Captioner`): a VideoEncoder read by a Transformer decoder through
 * cross-attention. Saved in its model directory's config.json with `type: "captioner"`.
 */
export const captionerBaseSchema = z
  .object({
    /** Frames sampled per clip (evenly over the whole video). */
    numFrames: z.number().int().positive().default(4),
    /** Frames are resized and centre-cropped to imageSize x imageSize. */
    imageSize: z.number().int().positive().default(32),
    patchSize: z.number().int().positive().default(8),
    visionDim: z.number().int().positive().default(64),
    visionLayers: z.number().int().positive().default(2),
    visionHeads: z.number().int().positive().default(4),
    /** 'frames': one token per frame (cheap); 'joint': all patches of all frames attend jointly. */
    videoMode: z.enum(['frames', 'joint']).default('joint'),
    textDim: z.number().int().positive().default(64),
    textLayers: z.number().int().positive().default(2),
    textHeads: z.number().int().positive().default(4),
    /** Caption tokens including the language token and EOS. */
    maxLength: z.number().int().min(3).default(24),
    vocabSize: z.number().int().positive(),
    dropout: z.number().min(0).lt(1).default(0),
    seed: z.number().int().default(0),
  })
  .strict();
/** The captioner architecture with its cross-field checks. */
export const captionerConfigSchema = captionerBaseSchema.refine((c) => c.imageSize % c.patchSize === 0, {
  message: 'imageSize must be a multiple of patchSize',
  path: ['patchSize'],
});
/** A validated `Captioner` config with its defaults filled in (config.json of a captioner directory, less `type`). */
export type CaptionerConfig = z.output<typeof captionerConfigSchema>;
/** A `Captioner` config as written: only `vocabSize` is required, every other field has a default. */
export type CaptionerConfigInput = z.input<typeof captionerConfigSchema>;

/**
 * Any model config, told apart by `type`: 'clip' (CLIP, or SigLIP with sigmoid scoring),
 * 'albef', 'vision_tower' or 'text_tower'. Captioners have their own schemas.
 */
export const modelConfigSchema = z.discriminatedUnion('type', [
  clipConfigSchema,
  albefConfigSchema,
  visionTowerModelSchema,
  textTowerModelSchema,
]);

/** A validated vision tower (`visionTowerSchema`) with its defaults filled in; `buildVisionTower` builds it. */
export type VisionTowerConfig = z.output<typeof visionTowerSchema>;
/** A validated text tower (`textTowerSchema`) with its defaults filled in; `buildTextTower` builds it. */
export type TextTowerConfig = z.output<typeof textTowerSchema>;
/** A validated `type: "clip"` config (CLIP, or SigLIP under sigmoid scoring); `createModel` builds a `DualEncoder`. */
export type ClipConfig = z.output<typeof clipConfigSchema>;
/** A validated `type: "albef"` config; `createModel` builds a `FusionModel`. */
export type AlbefConfig = z.output<typeof albefConfigSchema>;
/** A validated `type: "vision_tower"` config; `createModel` builds a `TowerEncoder` with only an image encoder. */
export type VisionTowerModelConfig = z.output<typeof visionTowerModelSchema>;
/** A validated `type: "text_tower"` config; `createModel` builds a `TowerEncoder` with only a text encoder. */
export type TextTowerModelConfig = z.output<typeof textTowerModelSchema>;
/**
 * A validated model config with its defaults filled in: what `parseModelConfig` returns,
 * `createModel` builds and `saveModel` writes to config.json.
 */
export type ModelConfig = z.output<typeof modelConfigSchema>;
/** A model config as written (a preset, a JSON file): fields with defaults may be left out. */
export type ModelConfigInput = z.input<typeof modelConfigSchema>;

/** Validates a model config: an unknown or wrong field is an E_CONFIG error naming its path. */
export function parseModelConfig(value: unknown): ModelConfig {
  return parseConfig(modelConfigSchema, value, 'model config');
}
