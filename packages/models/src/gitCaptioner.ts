import { Module, parseConfig, SeededRandom, TesseraError, tf } from '@tessera/core';
import { ACTIVATIONS, Decoder, generate, LayerNorm, Linear, type VisionEncoder } from '@tessera/transformer';
import { z } from 'zod';
import { type CaptionGenerateOptions, type CaptionModel, captionGenerateConfig, trimEos } from './captionModel.js';
import { visionTowerSchema } from './config.js';
import { buildVisionTower } from './towers.js';

const positiveInt = z.number().int().positive();
const tokenId = z.number().int().nonnegative();

/** A GIT captioner (microsoft/git-base-*): the fields transformers' GitConfig sets. */
export const gitCaptionerConfigSchema = z
  .object({
    type: z.literal('git_captioner').default('git_captioner'),
    /** The CLIP ViT run on every frame (pre_layrnorm, bias-free patch conv, post-LN over all tokens). */
    vision: visionTowerSchema,
    /** The BERT-style post-LN decoder over [image tokens, text]. */
    text: z
      .object({
        vocabSize: positiveInt,
        maxPositions: positiveInt,
        dim: positiveInt,
        numHeads: positiveInt,
        numLayers: positiveInt,
        mlpDim: positiveInt.optional(),
        activation: z.enum(ACTIVATIONS).default('gelu'),
        layerNormEps: z.number().positive().default(1e-12),
        dropout: z.number().min(0).lt(1).default(0),
        /** The output head reuses the word embeddings (its bias stays separate). */
        tieWordEmbeddings: z.boolean().default(false),
      })
      .strict(),
    /** Frames per clip: `num_image_with_embedding` of video checkpoints, 1 for image ones. */
    numFrames: positiveInt.default(1),
    /** One learned embedding per frame added to its tokens (`img_temporal_embedding`), for video checkpoints. */
    temporalEmbeddings: z.boolean().default(false),
    /** Epsilon of the visual projection's LayerNorm (the vision config's layer_norm_eps). */
    projectionEps: z.number().positive().default(1e-5),
    bosTokenId: tokenId.default(101),
    eosTokenId: tokenId.default(102),
    padTokenId: tokenId.default(0),
    /** Default caption length: generation_config.json's max_length (20) less the [CLS] prompt. */
    maxNewTokens: positiveInt.default(19),
    seed: z.number().int().default(0),
  })
  .strict()
  .refine((c) => c.temporalEmbeddings || c.numFrames === 1, {
    message: 'several frames need temporalEmbeddings (num_image_with_embedding)',
    path: ['numFrames'],
  });
/** A validated GIT captioner config with its defaults filled in (`gitFromHfConfig` builds one from a GitConfig). */
export type GitCaptionerConfig = z.output<typeof gitCaptionerConfigSchema>;
/** A GIT captioner config as given to `new GitCaptioner` (fields with defaults may be left out); invalid is E_CONFIG. */
export type GitCaptionerConfigInput = z.input<typeof gitCaptionerConfigSchema>;

/** One learned [dim] vector per frame, named `0`, `1`, ... (HF's `img_temporal_embedding` ParameterList). */
class FrameEmbeddings extends Module {
  readonly vectors: tf.Variable[];

  constructor(frames: number, dim: number) {
    super();
    this.vectors = Array.from({ length: frames }, (_, t) => this.addParameter(String(t), tf.zeros([dim])));
  }

  /** [frames, dim] */
  stacked(): tf.Tensor {
    return tf.stack(this.vectors);
  }
}

/** GIT's visual projection: Linear then LayerNorm (`visual_projection.visual_projection.{0,1}`). */
class VisualProjection extends Module {
  readonly linear: Linear;
  readonly layer_norm: LayerNorm;

  constructor(inFeatures: number, dim: number, eps: number, rng: SeededRandom) {
    super();
    this.linear = this.addModule('linear', new Linear({ inFeatures, outFeatures: dim, rng }));
    this.layer_norm = this.addModule('layer_norm', new LayerNorm({ dim, eps }));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.layer_norm.forward(this.linear.forward(x)));
  }
}

/**
 * GIT (Wang et al. 2022, transformers' GitForCausalLM): a CLIP ViT per frame, a temporal
 * embedding per frame, a visual projection, then one post-LN decoder over the image tokens
 * followed by the text, with GIT's prefix mask (image tokens see all image tokens; text sees
 * the image tokens and earlier text). Parameter names: `vision_model.*`, `img_temporal_embedding.N`,
 * `visual_projection.*`, `decoder.*` (a Tessera Decoder without cross-attention).
 */
export class GitCaptioner extends Module implements CaptionModel {
  readonly config: GitCaptionerConfig;
  readonly vision_model: VisionEncoder;
  readonly img_temporal_embedding: FrameEmbeddings | null = null;
  readonly visual_projection: VisualProjection;
  readonly decoder: Decoder;
  readonly specialIds: { bos: number; eos: number; pad: number };

  constructor(config: GitCaptionerConfigInput) {
    super();
    const c = parseConfig(gitCaptionerConfigSchema, config, 'GIT captioner config');
    this.config = c;
    this.specialIds = { bos: c.bosTokenId, eos: c.eosTokenId, pad: c.padTokenId };
    const rng = new SeededRandom(c.seed);
    this.vision_model = this.addModule('vision_model', buildVisionTower(c.vision, rng));
    if (c.temporalEmbeddings)
      this.img_temporal_embedding = this.addModule('img_temporal_embedding', new FrameEmbeddings(c.numFrames, c.vision.dim));
    this.visual_projection = this.addModule(
      'visual_projection',
      new VisualProjection(c.vision.dim, c.text.dim, c.projectionEps, rng.fork('projection')),
    );
    const t = c.text;
    this.decoder = this.addModule(
      'decoder',
      new Decoder({
        vocabSize: t.vocabSize,
        maxPositions: t.maxPositions,
        dim: t.dim,
        numHeads: t.numHeads,
        numLayers: t.numLayers,
        mlpDim: t.mlpDim,
        activation: t.activation,
        layerNormEps: t.layerNormEps,
        dropout: t.dropout,
        crossAttention: false,
        norm: 'post',
        tieWordEmbeddings: t.tieWordEmbeddings,
        outputBias: true,
        rng: rng.fork('decoder'),
      }),
    );
  }

  get numFrames(): number {
    return this.config.numFrames;
  }

  get imageSize(): number {
    return this.config.vision.imageSize;
  }

  get vocabSize(): number {
    return this.config.text.vocabSize;
  }

  /** Pixels [B, T, 3, H, W] -> projected image tokens [B, T * tokensPerFrame, dim]: GIT's prefix. */
  encode(pixels: tf.Tensor): tf.Tensor {
    if (pixels.rank !== 5 || pixels.shape[1] !== this.numFrames) {
      throw new TesseraError(
        'E_SHAPE',
        `GIT captioner: pixels must be [batch, ${this.numFrames} frames, 3, ${this.imageSize}, ${this.imageSize}], got [${pixels.shape.join(', ')}]`,
      );
    }
    return tf.tidy(() => {
      const [batch, frames, channels, h, w] = pixels.shape as [number, number, number, number, number];
      const tokens = this.vision_model.tokens(tf.reshape(pixels, [batch * frames, channels, h, w]));
      const [, n, d] = tokens.shape as [number, number, number];
      let perFrame = tf.reshape(tokens, [batch, frames, n, d]);
      if (this.img_temporal_embedding) perFrame = tf.add(perFrame, tf.reshape(this.img_temporal_embedding.stacked(), [1, frames, 1, d]));
      return this.visual_projection.forward(tf.reshape(perFrame, [batch, frames * n, d]));
    });
  }

  logits(pixels: tf.Tensor, ids: tf.Tensor, mask?: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.decoder.forward(ids, { prefix: this.encode(pixels), mask }).logits);
  }

  /** Generated ids per clip ([CLS] start excluded, [SEP] trimmed), with the decoder's key/value cache. */
  generate(pixels: tf.Tensor, options: CaptionGenerateOptions = {}): number[][] {
    const config = captionGenerateConfig(options, this.specialIds, {
      maxNewTokens: Math.min(this.config.maxNewTokens, this.config.text.maxPositions - 1),
      minNewTokens: 0,
    });
    const prefix = this.encode(pixels);
    try {
      const batch = prefix.shape[0] as number;
      const prompts = Array.from({ length: batch }, () => [config.bosTokenId]);
      return trimEos(generate(this.decoder, { prefix, prompts }, config).sequences, this.specialIds.eos);
    } finally {
      prefix.dispose();
    }
  }
}
