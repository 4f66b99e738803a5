import { type Module, type SeededRandom, TesseraError, type tf } from '@tessera/core';
import type { ImageProcessor } from '@tessera/patches';
import type { GenerateConfig } from '@tessera/transformer';
import type { CaptionLang } from './captionVocab.js';

/** Decoding settings of `CaptionModel.generate` (Tessera's `generate`: greedy, beam, top-k/p sampling, KV cache). */
export interface CaptionGenerateOptions {
  /** The first token of every caption; default the checkpoint's BOS (Tessera captioners: the `<en>` token). */
  startId?: number;
  /** 1: greedy (default); more: beam search with this many beams. */
  beams?: number;
  /** Sample instead (needs `rng`); with `topK`, `topP`, `temperature`. Ignored with beams > 1. */
  sample?: boolean;
  topK?: number;
  topP?: number;
  temperature?: number;
  rng?: SeededRandom;
  /** Default: the model's (Tessera captioners: as many as the text positions allow; HF: generation_config.json's max_length - 1). */
  maxNewTokens?: number;
  /** Default: the model's (Tessera captioners 1; HF checkpoints 0, as transformers). */
  minNewTokens?: number;
  /** Only these token ids (and EOS) may be generated. */
  allowedTokenIds?: number[];
}

/**
 * A captioner the app and `POST /caption` run, whatever its architecture: Tessera's
 * `Captioner` (cross-attention decoder), GIT (image tokens as a prefix of a BERT-style decoder),
 * BLIP (ViT + BERT decoder with cross-attention). Pixels are always [B, T, 3, H, W]:
 * T = `numFrames` (1 for image checkpoints).
 */
export interface CaptionModel extends Module {
  /** Frames the model reads per clip (1 for image checkpoints). */
  readonly numFrames: number;
  /** Square input size of each frame. */
  readonly imageSize: number;
  readonly vocabSize: number;
  /** The ids `generate` uses: BOS (start), EOS (stop; HF: [SEP]), PAD. */
  readonly specialIds: { bos: number; eos: number; pad: number };
  /** Pixels [B, T, 3, H, W] -> the states the text side reads [B, N, dim]. */
  encode(pixels: tf.Tensor): tf.Tensor;
  /** Teacher-forced logits [B, S, vocab] at the text positions for ids [B, S] (mask [B, S]: 1 token, 0 padding). */
  logits(pixels: tf.Tensor, ids: tf.Tensor, mask?: tf.Tensor): tf.Tensor;
  /** Generated ids per clip (start token excluded, EOS trimmed). */
  generate(pixels: tf.Tensor, options?: CaptionGenerateOptions): number[][];
}

/** A captioner's text side: the start token and vocabulary of a language, ids -> text, text -> training ids. */
export interface CaptionText {
  /** Languages the captioner writes; the first is its default. */
  readonly langs: readonly CaptionLang[];
  /** Start token and allowed ids for captions in `lang` (E_INPUT when the captioner does not write it). */
  decodeOptions(lang?: CaptionLang): Pick<CaptionGenerateOptions, 'startId' | 'allowedTokenIds'>;
  /** Generated ids -> text, special tokens skipped. */
  decode(ids: readonly number[]): string;
  /** A training caption: start token, words, EOS; at most `maxLength` ids. */
  encode(caption: string, lang: CaptionLang, maxLength: number): number[];
}

/** What `loadCaptioner` returns for any captioner directory (Tessera or Hugging Face GIT/BLIP). */
export interface LoadedCaptioner {
  model: CaptionModel;
  text: CaptionText;
  /** The frame preprocessing (resize, crop, normalise) the model was trained with. */
  processor: ImageProcessor;
  /** Where it came from: `tessera` (config.json type captioner) or the Hugging Face model_type. */
  kind: 'tessera' | 'git' | 'blip';
  dir: string;
}

/** `CaptionGenerateOptions` -> the config of @tessera/transformer's `generate` for a model with these special ids. */
export function captionGenerateConfig(
  options: CaptionGenerateOptions,
  ids: CaptionModel['specialIds'],
  defaults: { maxNewTokens: number; minNewTokens: number },
): GenerateConfig & { bosTokenId: number } {
  const beams = options.beams ?? 1;
  if (!Number.isInteger(beams) || beams < 1) throw new TesseraError('E_INPUT', `beams must be a positive integer, got ${beams}`);
  const strategy = beams > 1 ? 'beam' : options.sample ? 'sample' : 'greedy';
  return {
    strategy,
    numBeams: beams,
    bosTokenId: options.startId ?? ids.bos,
    eosTokenId: ids.eos,
    padTokenId: ids.pad,
    maxNewTokens: options.maxNewTokens ?? defaults.maxNewTokens,
    minNewTokens: options.minNewTokens ?? defaults.minNewTokens,
    allowedTokenIds: options.allowedTokenIds,
    ...(strategy === 'sample'
      ? { topK: options.topK ?? 0, topP: options.topP ?? 1, temperature: options.temperature ?? 1, rng: options.rng }
      : {}),
  };
}

/** Generated sequences with the trailing EOS removed. */
export function trimEos(sequences: number[][], eos: number): number[][] {
  return sequences.map((s) => (s[s.length - 1] === eos ? s.slice(0, -1) : s));
}
