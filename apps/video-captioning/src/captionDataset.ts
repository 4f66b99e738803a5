import path from 'node:path';
import { SeededRandom, TesseraError, tf } from '@tessera/core';
import { type EpochPosition, EpochSource, readManifest } from '@tessera/data';
import { CAPTION_LANGS, type CaptionLang, type CaptionText } from '@tessera/models';
import type { ImageProcessor } from '@tessera/patches';
import type { BatchSource } from '@tessera/train';
import { clipTensor, frameProcessor, loadClipFrames } from './clipFrames.js';

/** One clip of a captioned video manifest, frames loaded. */
export interface CaptionClip {
  /** The video path relative to the manifest. */
  id: string;
  frames: Float32Array;
  captions: Array<{ text: string; lang: CaptionLang }>;
}

export interface LoadedCaptionSet {
  clips: CaptionClip[];
  /** Rows whose video could not be read or had no en/zh caption, by error code. */
  skipped: Record<string, number>;
}

/**
 * Reads a JSONL/CSV manifest of captioned videos (`video`, `captions: [{text, lang}]`, `split`)
 * and samples every clip's frames once (the moving-emoji clips are small). Unreadable videos
 * and clips without a caption in `langs` are skipped and counted, not fatal.
 */
export async function loadCaptionSet(
  manifest: string,
  options: {
    numFrames: number;
    imageSize: number;
    split?: string;
    limit?: number;
    processor?: ImageProcessor;
    /** The caption languages kept (default en and zh); a clip with none of them is skipped as no_caption. */
    langs?: readonly CaptionLang[];
  },
): Promise<LoadedCaptionSet> {
  const m = await readManifest(manifest);
  const processor = options.processor ?? frameProcessor(options.imageSize);
  const langs: readonly CaptionLang[] = options.langs ?? CAPTION_LANGS;
  const skipped: Record<string, number> = {};
  const clips: CaptionClip[] = [];
  const records = m.records.filter((r) => options.split === undefined || r.split === options.split).slice(0, options.limit);
  for (const r of records) {
    const captions = r.captions.filter((c): c is { text: string; lang: CaptionLang } => langs.includes(c.lang as CaptionLang));
    if (captions.length === 0 || !('path' in r.image)) {
      skipped.no_caption = (skipped.no_caption ?? 0) + 1;
      continue;
    }
    try {
      clips.push({ id: r.key, frames: await loadClipFrames(r.image.path, options.numFrames, processor), captions });
    } catch (error) {
      const code = error instanceof TesseraError ? error.code : 'E_UNKNOWN';
      skipped[code] = (skipped[code] ?? 0) + 1;
    }
  }
  if (clips.length === 0) {
    throw new TesseraError(
      'E_DATA',
      `no readable captioned clips in ${path.resolve(manifest)}${options.split ? ` (split ${options.split})` : ''}`,
      {
        details: { skipped },
      },
    );
  }
  return { clips, skipped };
}

/** How training captions become ids: a `CaptionVocab`, or a pretrained captioner's tokenizer with its PAD id. */
export interface CaptionIds {
  encode: CaptionText['encode'];
  readonly padId: number;
}

/** A training batch: clips [B, T, 3, H, W] and caption ids [B, L] (`<start> words <end>`, padded). */
export interface CaptionBatch {
  video: tf.Tensor;
  ids: tf.Tensor2D;
  size: number;
}

/**
 * Shuffled batches of (clip, one of its captions) per epoch; each clip is paired with a
 * caption drawn at random from all its captions (both languages). Resumable: the state is
 * the epoch and position, and the shuffles are seeded per epoch. The last short batch is kept.
 */
export class CaptionBatchSource implements BatchSource<CaptionBatch> {
  private readonly epochs: EpochSource<CaptionBatch, CaptionClip>;

  constructor(
    clips: readonly CaptionClip[],
    private readonly vocab: CaptionIds,
    private readonly options: {
      batchSize: number;
      numFrames: number;
      imageSize: number;
      maxLength: number;
      seed: number;
      /** Batches kept alive after being handed out (the trainer's accumulation). */
      keepAlive?: number;
    },
  ) {
    this.epochs = new EpochSource({
      samples: clips,
      batchSize: options.batchSize,
      seed: options.seed,
      keepAlive: options.keepAlive ?? 1,
      build: (picked, at) => this.batch(picked, at),
    });
  }

  get batchesPerEpoch(): number {
    return this.epochs.batchesPerEpoch;
  }

  next(): Promise<CaptionBatch | null> {
    return this.epochs.next();
  }

  /** The captions of the batch at `at` are drawn from the generator keyed `captions-{epoch}-{position}`. */
  private batch(clips: CaptionClip[], at: EpochPosition): CaptionBatch {
    const rng = new SeededRandom(this.options.seed).fork(`captions-${at.epoch}-${at.position}`);
    const sequences = clips.map((c) => {
      const caption = c.captions[rng.int(c.captions.length)] as CaptionClip['captions'][number];
      return this.vocab.encode(caption.text, caption.lang, this.options.maxLength);
    });
    const length = Math.max(...sequences.map((s) => s.length));
    const ids = new Int32Array(sequences.length * length).fill(this.vocab.padId);
    sequences.forEach((s, i) => {
      ids.set(s, i * length);
    });
    return {
      video: clipTensor(
        clips.map((c) => c.frames),
        this.options.numFrames,
        this.options.imageSize,
      ),
      ids: tf.tensor2d(ids, [sequences.length, length], 'int32'),
      size: clips.length,
    };
  }

  /** Frees the batch still held. */
  dispose(): void {
    this.epochs.dispose();
  }

  state(): unknown {
    return this.epochs.state();
  }

  restore(state: unknown): void {
    this.epochs.restore(state);
  }
}
