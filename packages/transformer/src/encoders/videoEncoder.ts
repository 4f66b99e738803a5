import { Module, parseConfig, tf } from '@tessera/core';
import { z } from 'zod';
import { blockSettings, TransformerStack } from '../blocks/transformerStack.js';
import { assertRank, shapeError } from '../checks.js';
import { Dropout } from '../layers/dropout.js';
import { LayerNorm } from '../layers/layerNorm.js';
import { LearnedPositionEmbedding } from '../layers/learnedPositionEmbedding.js';
import { PatchEmbedding } from '../layers/patchEmbedding.js';
import type { PositionEmbedding } from '../layers/positionEmbedding.js';
import { SinusoidalPositionEmbedding } from '../layers/sinusoidalPositionEmbedding.js';
import type { EncoderOutput } from './encoderOutput.js';
import { VisionEncoder, VisionEncoderConfigSchema } from './visionEncoder.js';

export const VideoEncoderConfigSchema = z
  .object({
    ...VisionEncoderConfigSchema.shape,
    numFrames: z.number().int().positive(),
    /**
     * 'frames': each frame through the ViT, pooled to one token; frame tokens + temporal
     * embeddings [B, T, dim] (cheap). 'joint': all patch tokens of all frames + temporal
     * embeddings attend jointly [B, T*N, dim] (sees motion inside the network).
     */
    mode: z.enum(['frames', 'joint']).default('frames'),
    temporalEmbedding: z.enum(['learned', 'sinusoidal']).default('learned'),
  })
  .strict()
  .refine((c) => c.classToken || c.pooling !== 'cls', { message: "pooling 'cls' needs classToken: true", path: ['pooling'] });
/**
 * Config of VideoEncoder: a VisionEncoderConfig plus `numFrames` (the most frames a clip may
 * have), `mode` (default 'frames') and `temporalEmbedding` (default 'learned'). 'joint' mode
 * has no class token and pools by the mean, so it ignores `classToken` and `pooling`; `patchBias`,
 * `preNorm` and the embedding `dropout` apply as in a VisionEncoder. E_CONFIG when invalid.
 */
export type VideoEncoderConfig = z.input<typeof VideoEncoderConfigSchema>;

/**
 * A video encoder over clips [B, T, C, H, W]. 'frames' mode: `vision.*` (a VisionEncoder
 * shared by all frames) and `temporal_embedding.weight` [T, dim]. 'joint' mode:
 * `embeddings.*` (patches, no class token), `temporal_embedding.weight`, `pre_layrnorm` (with
 * `preNorm`), `encoder.layers.N.*`, `layernorm`. Pooled output: the mean over frame tokens ('frames') or all tokens ('joint').
 */
export class VideoEncoder extends Module {
  readonly config: z.output<typeof VideoEncoderConfigSchema>;
  readonly vision: VisionEncoder | null = null;
  readonly embeddings: PatchEmbedding | null = null;
  readonly temporal_embedding: PositionEmbedding;
  readonly encoder: TransformerStack | null = null;
  readonly pre_layrnorm: LayerNorm | null = null;
  readonly layernorm: LayerNorm | null = null;
  private readonly drop: Dropout | null = null;

  constructor(config: VideoEncoderConfig) {
    super();
    const c = parseConfig(VideoEncoderConfigSchema, config, 'VideoEncoder config');
    this.config = c;
    const { numFrames, mode, temporalEmbedding, ...vision } = c;
    if (mode === 'frames') {
      this.vision = this.addModule('vision', new VisionEncoder({ ...vision, rng: c.rng.fork('vision') }));
    } else {
      this.embeddings = this.addModule(
        'embeddings',
        new PatchEmbedding({
          imageSize: c.imageSize as number | [number, number],
          patchSize: c.patchSize,
          channels: c.channels,
          dim: c.dim,
          classToken: false,
          positionEmbedding: c.positionEmbedding,
          patchBias: c.patchBias,
          rng: c.rng.fork('patches'),
        }),
      );
    }
    this.temporal_embedding = this.addModule(
      'temporal_embedding',
      temporalEmbedding === 'learned'
        ? new LearnedPositionEmbedding({ maxPositions: numFrames, dim: c.dim, init: c.init, std: c.std, rng: c.rng.fork('temporal') })
        : new SinusoidalPositionEmbedding({ maxPositions: numFrames, dim: c.dim }),
    );
    if (mode === 'joint') {
      if (c.preNorm) this.pre_layrnorm = this.addModule('pre_layrnorm', new LayerNorm({ dim: c.dim, eps: c.layerNormEps }));
      this.encoder = this.addModule('encoder', new TransformerStack(c.numLayers, { ...blockSettings(c), rng: c.rng.fork('encoder') }));
      // Forked after the encoder's stream, so the layers start from the same weights as before it existed.
      this.drop = this.addModule('dropout', new Dropout({ p: c.dropout, rng: c.rng.fork('embedding-dropout') }));
      if (c.norm === 'pre') this.layernorm = this.addModule('layernorm', new LayerNorm({ dim: c.dim, eps: c.layerNormEps }));
    }
  }

  /** Clips [B, T, C, H, W] (T <= numFrames) -> tokens and pooled vector. */
  forward(video: tf.Tensor): EncoderOutput {
    assertRank(video, 5, 'VideoEncoder', 'of clips [batch, frames, channels, height, width]');
    const [batch, frames, channels, height, width] = video.shape as [number, number, number, number, number];
    if (frames > this.config.numFrames)
      throw shapeError('VideoEncoder', `got ${frames} frames, built for at most ${this.config.numFrames}`);
    return tf.tidy(() => {
      // Frames become batch items: a reshape, not a (slow) 5-D transpose.
      const images = tf.reshape(video, [batch * frames, channels, height, width]);
      const dim = this.config.dim;
      let hidden: tf.Tensor;
      if (this.vision) {
        const perFrame = tf.reshape(this.vision.pool(this.vision.tokens(images)), [batch, frames, dim]);
        hidden = this.temporal_embedding.forward(perFrame);
      } else {
        const embeddings = this.embeddings as PatchEmbedding;
        const patches = embeddings.numPatches;
        const tokens = tf.reshape(embeddings.forward(images as tf.Tensor4D), [batch, frames, patches, dim]);
        const withTime = tf.add(tokens, tf.reshape(this.temporal_embedding.rows(frames), [1, frames, 1, dim]));
        let input = tf.reshape(withTime, [batch, frames * patches, dim]);
        if (this.pre_layrnorm) input = this.pre_layrnorm.forward(input);
        if (this.drop) input = this.drop.forward(input);
        hidden = (this.encoder as TransformerStack).forward(input).hidden;
        if (this.layernorm) hidden = this.layernorm.forward(hidden);
      }
      return { hidden, pooled: tf.mean(hidden, 1) } as unknown as tf.TensorContainer;
    }) as unknown as EncoderOutput;
  }
}
