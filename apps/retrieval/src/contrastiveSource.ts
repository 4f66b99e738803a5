import { SeededRandom, TesseraError, tf } from '@tessera/core';
import { type DataRecord, type EpochPosition, EpochSource, ShardEpochSource } from '@tessera/data';
import { ImageAugmenter, type ImageProcessor, type RgbImage } from '@tessera/patches';
import type { BatchSource } from '@tessera/train';
import type { PreparedPair } from './pairs.js';

/** One contrastive step: B images, for each image one caption per language. */
export interface ContrastiveBatch {
  images: tf.Tensor4D;
  ids: tf.Tensor2D;
  mask: tf.Tensor2D;
  /** [B, T] 1 where image i matches text j. */
  positives: tf.Tensor2D;
  size: number;
}

export interface AugmentSettings {
  /** White margin added around each image before cropping (pixels): shifts and zooms out. */
  pad: number;
  /** RandomResizedCrop area range of the padded image. */
  scale: [number, number];
  ratio: [number, number];
  grayscale: number;
  brightness: number;
  contrast: number;
  saturation: number;
  hue: number;
}

/** Pairs streamed from WebDataset shards instead of held in memory (ShardEpochSource). */
export interface ContrastiveStream {
  /** This rank's shards. */
  shards: readonly string[];
  /** Decodes and tokenizes a record as it is drawn (throws SkipSample to skip it). */
  prepare: (record: DataRecord) => Promise<PreparedPair>;
  /** Samples in the shards (img2dataset stats or a count): sizes the epoch for schedules and progress. */
  samplesPerEpoch: number;
  shuffleBuffer: number;
}

export interface ContrastiveSourceOptions {
  /** The pairs, in memory; or give `stream`. */
  pairs?: readonly PreparedPair[];
  stream?: ContrastiveStream;
  processor: ImageProcessor;
  imageSize: number;
  batchSize: number;
  /** Languages to draw one caption from per image (an image lacking one skips it). */
  languages: readonly string[];
  augment: AugmentSettings | null;
  padId: number;
  seed: number;
  /** Batches kept alive after being handed out (the trainer's accumulation). */
  keepAlive?: number;
  /** Records dropped while preparing the pairs, by reason; logged to metrics.jsonl each epoch. */
  skipped?: Record<string, number>;
}

/** On white: the image at (x, y) of a size x size canvas. */
function padOnWhite(image: RgbImage, pad: number, rng: SeededRandom): RgbImage {
  if (pad <= 0) return image;
  const width = image.width + pad;
  const height = image.height + pad;
  const data = new Uint8Array(width * height * 3).fill(255);
  const x0 = rng.int(pad + 1);
  const y0 = rng.int(pad + 1);
  for (let y = 0; y < image.height; y++) {
    data.set(image.data.subarray(y * image.width * 3, (y + 1) * image.width * 3), ((y + y0) * width + x0) * 3);
  }
  return { data, width, height, channels: 3 };
}

function toGray(image: RgbImage): RgbImage {
  const data = new Uint8Array(image.data.length);
  for (let p = 0; p < data.length; p += 3) {
    // ITU-R 601-2 luma, as PIL's convert('L') and torchvision's Grayscale.
    const v = Math.round(0.299 * (image.data[p] as number) + 0.587 * (image.data[p + 1] as number) + 0.114 * (image.data[p + 2] as number));
    data[p] = v;
    data[p + 1] = v;
    data[p + 2] = v;
  }
  return { ...image, data };
}

/**
 * A seeded, resumable stream of contrastive batches over prepared pairs (each epoch a new
 * permutation) or over pairs streamed from shards (a seeded shard order and shuffle buffer,
 * decoded as drawn); each image augmented (white-margin shift, random resized crop, grayscale,
 * colour jitter) from a generator keyed by (epoch, position), so `restore` replays exactly.
 * The last incomplete batch of an epoch is dropped (the contrastive loss wants full batches).
 */
export class ContrastiveSource implements BatchSource<ContrastiveBatch> {
  readonly batchesPerEpoch: number;
  private readonly o: ContrastiveSourceOptions;
  private readonly augmenter: ImageAugmenter | null;
  private readonly epochs: EpochSource<ContrastiveBatch, PreparedPair> | ShardEpochSource<ContrastiveBatch, PreparedPair>;

  constructor(o: ContrastiveSourceOptions) {
    const available = o.stream ? o.stream.samplesPerEpoch : (o.pairs?.length ?? 0);
    if (available < o.batchSize) {
      throw new TesseraError(
        'E_CONFIG',
        `the training set has ${available} ${o.stream ? 'samples' : 'usable pairs'}, fewer than one batch (train.batchSize ${o.batchSize}); lower train.batchSize`,
      );
    }
    if (o.batchSize < 2)
      throw new TesseraError('E_CONFIG', 'train.batchSize must be at least 2: the contrastive loss needs negatives in the batch');
    this.o = o;
    const common = { batchSize: o.batchSize, seed: o.seed, keepAlive: o.keepAlive ?? 1 };
    const build = (pairs: PreparedPair[], at: EpochPosition) => this.batch(pairs, at);
    if (o.stream) {
      const { shards, prepare, shuffleBuffer, samplesPerEpoch } = o.stream;
      this.epochs = new ShardEpochSource({ ...common, shards, prepare, shuffleBuffer, build });
      this.batchesPerEpoch = Math.floor(samplesPerEpoch / o.batchSize);
    } else {
      this.epochs = new EpochSource({ ...common, samples: o.pairs ?? [], dropLast: true, build });
      this.batchesPerEpoch = this.epochs.batchesPerEpoch;
    }
    const a = o.augment;
    this.augmenter = a
      ? new ImageAugmenter(o.processor, {
          randomResizedCrop: { size: o.imageSize, scale: a.scale, ratio: a.ratio, resample: 'bilinear' },
          colorJitter: { brightness: a.brightness, contrast: a.contrast, saturation: a.saturation, hue: a.hue },
        })
      : null;
  }

  /** A generator that depends only on the seed and the label (fork advances its parent). */
  private keyed(label: string): SeededRandom {
    return new SeededRandom(this.o.seed).fork(label);
  }

  state(): EpochPosition {
    return this.epochs.state();
  }

  /** Skipped records by reason (`skipped/<reason>`), for the trainer's per-epoch `data` record. */
  stats(): Record<string, number> {
    const streamed = this.epochs instanceof ShardEpochSource ? this.epochs.stats() : null;
    const counts = streamed ? streamed.skipped.counts() : (this.o.skipped ?? {});
    const total = Object.values(counts).reduce((s, v) => s + v, 0);
    return {
      usable: streamed ? streamed.samples : (this.o.pairs?.length ?? 0),
      skipped: total,
      ...Object.fromEntries(Object.entries(counts).map(([k, v]) => [`skipped/${k}`, v])),
    };
  }

  restore(state: unknown): void {
    this.epochs.restore(state);
  }

  private pixels(pair: PreparedPair, rng: SeededRandom): Float32Array {
    const a = this.o.augment;
    if (!a || !this.augmenter) return this.o.processor.toFloat(this.o.processor.transform(pair.image));
    let image = padOnWhite(pair.image, a.pad, rng);
    if (rng.bernoulli(a.grayscale)) image = toGray(image);
    return this.augmenter.augmentImage(image, rng).pixels;
  }

  next(): Promise<ContrastiveBatch | null> {
    return this.epochs.next();
  }

  /** Pair b of the batch at `at` is augmented from the generator keyed `e{epoch}-p{position + b}`. */
  private batch(batchPairs: PreparedPair[], at: EpochPosition): ContrastiveBatch {
    const { batchSize, languages, imageSize, padId } = this.o;
    const plane = 3 * imageSize * imageSize;
    const images = new Float32Array(batchSize * plane);
    const rows: Int32Array[] = [];
    const owner: number[] = [];
    for (let b = 0; b < batchSize; b++) {
      const pair = batchPairs[b] as PreparedPair;
      const rng = this.keyed(`e${at.epoch}-p${at.position + b}`);
      images.set(this.pixels(pair, rng), b * plane);
      for (const lang of languages) {
        const options = pair.captions.get(lang);
        if (!options || options.length === 0) continue;
        rows.push(options[rng.int(options.length)] as Int32Array);
        owner.push(b);
      }
    }
    if (rows.length === 0)
      throw new TesseraError(
        'E_DATA',
        `no caption in languages ${languages.join(', ')}: check data.languages against the manifest's lang fields`,
      );
    const length = Math.max(...rows.map((r) => r.length));
    const ids = new Int32Array(rows.length * length).fill(padId);
    const mask = new Int32Array(rows.length * length);
    rows.forEach((r, t) => {
      ids.set(r, t * length);
      mask.fill(1, t * length, t * length + r.length);
    });
    const positives = new Float32Array(batchSize * rows.length);
    owner.forEach((b, t) => {
      positives[b * rows.length + t] = 1;
    });
    return {
      images: tf.tensor4d(images, [batchSize, 3, imageSize, imageSize]),
      ids: tf.tensor2d(ids, [rows.length, length], 'int32'),
      mask: tf.tensor2d(mask, [rows.length, length], 'int32'),
      positives: tf.tensor2d(positives, [batchSize, rows.length]),
      size: batchSize,
    };
  }

  /** Frees the batches still held. */
  dispose(): void {
    this.epochs.dispose();
  }
}
