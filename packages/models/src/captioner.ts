import { Module, parseConfig, SeededRandom, TesseraError, tf } from '@tessera/core';
import { Decoder, generate, VideoEncoder } from '@tessera/transformer';
import { type CaptionerConfig, type CaptionerConfigInput, captionerConfigSchema } from './config.js';

/** Decoding settings for `Captioner.generate`. */
export interface DecodeOptions {
  /** 1: greedy; more: beam search with this many beams. */
  beams?: number;
  maxNewTokens?: number;
  minNewTokens?: number;
  /** Only these token ids (and EOS) may be generated: `CaptionVocab.tokenIdsFor(lang)` keeps a caption in one language. */
  allowedTokenIds?: number[];
}

/**
 * A video captioner: a VideoEncoder (ViT per frame + temporal embeddings) whose tokens a
 * Transformer decoder reads through cross-attention. Parameter names: `video.*`, `decoder.*`.
 */
export class Captioner extends Module {
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

  /**
   * Generates token ids (start token excluded, EOS trimmed) for each clip, starting every
   * sequence with `startId` (the language token).
   */
  generate(video: tf.Tensor, startId: number, eosId: number, options: DecodeOptions = {}): number[][] {
    const beams = options.beams ?? 1;
    if (!Number.isInteger(beams) || beams < 1) throw new TesseraError('E_INPUT', `beams must be a positive integer, got ${beams}`);
    const states = this.encode(video);
    try {
      const batch = states.shape[0] as number;
      const result = generate(
        this.decoder,
        { encoderStates: states, prompts: Array.from({ length: batch }, () => [startId]) },
        {
          strategy: beams > 1 ? 'beam' : 'greedy',
          numBeams: beams,
          bosTokenId: startId,
          eosTokenId: eosId,
          maxNewTokens: options.maxNewTokens ?? this.config.maxLength - 1,
          minNewTokens: options.minNewTokens ?? 1,
          allowedTokenIds: options.allowedTokenIds,
        },
      );
      return result.sequences.map((s) => (s[s.length - 1] === eosId ? s.slice(0, -1) : s));
    } finally {
      states.dispose();
    }
  }
}
