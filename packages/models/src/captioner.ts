import { Module, parseConfig, SeededRandom, tf } from '@tessera/core';
import { Decoder, generate, VideoEncoder } from '@tessera/transformer';
import { type CaptionGenerateOptions, type CaptionModel, captionGenerateConfig, trimEos } from './captionModel.js';
import { CAPTION_VOCAB_IDS } from './captionVocab.js';
import { type CaptionerConfig, type CaptionerConfigInput, captionerConfigSchema } from './config.js';

/**
 * A video captioner: a VideoEncoder (ViT per frame + temporal embeddings) whose tokens a
 * Transformer decoder reads through cross-attention. Parameter names: `video.*`, `decoder.*`.
 * Its vocabulary is a `CaptionVocab` (start token = the language token).
 */
export class Captioner extends Module implements CaptionModel {
  readonly specialIds = { bos: CAPTION_VOCAB_IDS.en, eos: CAPTION_VOCAB_IDS.eos, pad: CAPTION_VOCAB_IDS.pad };
  readonly config: CaptionerConfig;
  readonly video: VideoEncoder;
  readonly decoder: Decoder;

  constructor(config: CaptionerConfigInput) {
    super();
    const c = parseConfig(captionerConfigSchema, config, 'captioner config');
    this.config = c;
    const rng = new SeededRandom(c.seed);
    this.video = this.addModule(
      'video',
      new VideoEncoder({
        imageSize: c.imageSize,
        patchSize: c.patchSize,
        dim: c.visionDim,
        numHeads: c.visionHeads,
        numLayers: c.visionLayers,
        numFrames: c.numFrames,
        mode: c.videoMode,
        pooling: c.videoMode === 'frames' ? 'mean' : undefined,
        dropout: c.dropout,
        rng: rng.fork('video'),
      }),
    );
    this.decoder = this.addModule(
      'decoder',
      new Decoder({
        vocabSize: c.vocabSize,
        maxPositions: c.maxLength,
        dim: c.textDim,
        numHeads: c.textHeads,
        numLayers: c.textLayers,
        crossDim: c.visionDim,
        dropout: c.dropout,
        rng: rng.fork('decoder'),
      }),
    );
  }

  get numFrames(): number {
    return this.config.numFrames;
  }

  get imageSize(): number {
    return this.config.imageSize;
  }

  get vocabSize(): number {
    return this.config.vocabSize;
  }

  /** Clips [B, T, 3, H, W] -> encoder states [B, N, visionDim]. */
  encode(video: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const out = this.video.forward(video);
      return out.hidden;
    });
  }

  /** Teacher-forced logits [B, S, vocab] for input ids [B, S]. */
  forward(video: tf.Tensor, ids: tf.Tensor, mask?: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const states = this.encode(video);
      const out = this.decoder.forward(ids, { encoderStates: states, mask });
      return out.logits;
    });
  }

  logits(video: tf.Tensor, ids: tf.Tensor, mask?: tf.Tensor): tf.Tensor {
    return this.forward(video, ids, mask);
  }

  /** Generated token ids per clip (start token excluded, EOS trimmed); `startId` picks the language (default `<en>`). */
  generate(video: tf.Tensor, options: CaptionGenerateOptions = {}): number[][] {
    const config = captionGenerateConfig(options, this.specialIds, { maxNewTokens: this.config.maxLength - 1, minNewTokens: 1 });
    const states = this.encode(video);
    try {
      const batch = states.shape[0] as number;
      const prompts = Array.from({ length: batch }, () => [config.bosTokenId]);
      return trimEos(generate(this.decoder, { encoderStates: states, prompts }, config).sequences, this.specialIds.eos);
    } finally {
      states.dispose();
    }
  }
}
