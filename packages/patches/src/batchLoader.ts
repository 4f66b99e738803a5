import { createLogger, isTesseraError, SeededRandom, TesseraError, tf } from '@tessera/core';
import type { ImageAugmenter } from './augment.js';
import type { ImageInput } from './decodeImage.js';
import type { ImageProcessor } from './imageProcessor.js';
import { type SampleFramesOptions, sampleFrameImages } from './sampleFrames.js';

export interface BatchLoaderOptions<T> {
  items: Iterable<T> | AsyncIterable<T>;
  /** Loads one item into `sampleSize` float32 values; a TesseraError skips the item. */
  load: (item: T, index: number) => Promise<Float32Array>;
  /** Shape of one sample, e.g. [3, 224, 224]. */
  sampleShape: number[];
  batchSize: number;
  /** Loads in flight at once (default 4; sharp decodes on libuv's thread pool). */
  concurrency?: number;
  /** Finished batches kept ready ahead of the consumer (default 2). */
  prefetch?: number;
  /** Drop a last batch smaller than batchSize (default false). */
  dropLast?: boolean;
  /**
   * Also skip (and count as E_UNEXPECTED) errors that are not TesseraErrors, which are normally
   * bugs and stop the loader (default false).
   */
  skipUnexpectedErrors?: boolean;
  /** Called for each skipped item. */
  onSkip?: (item: T, index: number, error: Error) => void;
  /** Log the skip counts at the end (default true). */
  logSummary?: boolean;
}

export interface LoadedBatch<T> {
  /** `[B, ...sampleShape]` float32; the consumer disposes it. */
  pixels: tf.Tensor;
  items: T[];
  /** Positions of the items in the input sequence. */
  indices: number[];
}

export interface LoaderStats {
  loaded: number;
  skipped: number;
  /** Skipped items by error code. */
  skippedByReason: Record<string, number>;
}

type Outcome = { ok: true; data: Float32Array } | { ok: false; error: Error };
interface Pending<T> {
  item: T;
  index: number;
  outcome: Promise<Outcome>;
}
interface ReadyBatch<T> {
  data: Float32Array;
  count: number;
  items: T[];
  indices: number[];
}

/**
 * Loads samples with bounded concurrency into batches, keeping up to `prefetch` batches ready
 * so that a training loop does not wait on decoding. Items keep their input order; a bad item
 * (a TesseraError from `load`) is skipped and counted by code, and the batch is filled from
 * the following items, so nothing else is lost. Iterate with `for await`; each batch's tensor
 * belongs to the consumer.
 */
export class BatchLoader<T> implements AsyncIterable<LoadedBatch<T>> {
  private readonly options: BatchLoaderOptions<T>;
  private readonly sampleSize: number;
  private readonly counts: LoaderStats = { loaded: 0, skipped: 0, skippedByReason: {} };

  constructor(options: BatchLoaderOptions<T>) {
    const { batchSize, concurrency = 4, prefetch = 2 } = options;
    for (const [name, value] of Object.entries({ batchSize, concurrency, prefetch })) {
      if (!Number.isInteger(value) || value < 1)
        throw new TesseraError('E_CONFIG', `BatchLoader: ${name} must be a positive integer, got ${value}`);
    }
    this.options = options;
    this.sampleSize = options.sampleShape.reduce((a, b) => a * b, 1);
  }

  /** Counts so far (final once iteration ends). */
  stats(): LoaderStats {
    return { ...this.counts, skippedByReason: { ...this.counts.skippedByReason } };
  }

  /** "loaded 98, skipped 2 (E_FILE_NOT_FOUND: 1, E_IMAGE_CORRUPT: 1)". */
  summary(): string {
    const reasons = Object.entries(this.counts.skippedByReason)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([code, n]) => `${code}: ${n}`);
    return `loaded ${this.counts.loaded}, skipped ${this.counts.skipped}${reasons.length ? ` (${reasons.join(', ')})` : ''}`;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<LoadedBatch<T>> {
    const { batchSize, prefetch = 2, dropLast = false } = this.options;
    const ready: ReadyBatch<T>[] = [];
    let finished = false;
    let failure: unknown = null;
    let stopped = false;
    let wakeConsumer: (() => void) | null = null;
    let wakeProducer: (() => void) | null = null;
    const signal = (which: 'consumer' | 'producer') => {
      const wake = which === 'consumer' ? wakeConsumer : wakeProducer;
      if (which === 'consumer') wakeConsumer = null;
      else wakeProducer = null;
      wake?.();
    };

    const produce = async () => {
      const source = this.iterate();
      try {
        for (;;) {
          while (ready.length >= prefetch && !stopped) await new Promise<void>((r) => (wakeProducer = r));
          if (stopped) return;
          const batch = await this.assemble(source, batchSize);
          if (batch.count === 0 || (dropLast && batch.count < batchSize)) return;
          ready.push(batch);
          signal('consumer');
          if (batch.count < batchSize) return;
        }
      } catch (error) {
        failure = error;
      } finally {
        finished = true;
        signal('consumer');
      }
    };
    const producer = produce();

    try {
      for (;;) {
        while (ready.length === 0 && !finished) await new Promise<void>((r) => (wakeConsumer = r));
        const batch = ready.shift();
        signal('producer');
        if (!batch) break;
        const shape = [batch.count, ...this.options.sampleShape];
        const data =
          batch.count * this.sampleSize === batch.data.length ? batch.data : batch.data.subarray(0, batch.count * this.sampleSize);
        yield { pixels: tf.tensor(data, shape, 'float32'), items: batch.items, indices: batch.indices };
      }
      if (failure) throw failure;
      if (this.options.logSummary ?? true) createLogger('patches').info(`batch loader: ${this.summary()}`);
    } finally {
      stopped = true;
      signal('producer');
      await producer;
    }
  }

  /** A window of up to `concurrency` loads in flight, yielded in input order. */
  private async *iterate(): AsyncGenerator<Pending<T>> {
    const { items, load, concurrency = 4 } = this.options;
    const window: Pending<T>[] = [];
    const iterator = Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : (items as Iterable<T>)[Symbol.iterator]();
    let index = 0;
    let done = false;
    const start = (item: T, i: number): Pending<T> => ({
      item,
      index: i,
      outcome: Promise.resolve()
        .then(() => load(item, i))
        .then(
          (data): Outcome => ({ ok: true, data }),
          (error: unknown): Outcome => ({ ok: false, error: error instanceof Error ? error : new Error(String(error)) }),
        ),
    });
    for (;;) {
      while (!done && window.length < concurrency) {
        const next = await iterator.next();
        if (next.done) done = true;
        else window.push(start(next.value, index++));
      }
      const head = window.shift();
      if (!head) return;
      yield head;
    }
  }

  private async assemble(source: AsyncGenerator<Pending<T>>, batchSize: number): Promise<ReadyBatch<T>> {
    const data = new Float32Array(batchSize * this.sampleSize);
    const batch: ReadyBatch<T> = { data, count: 0, items: [], indices: [] };
    while (batch.count < batchSize) {
      const next = await source.next();
      if (next.done) break;
      const { item, index } = next.value;
      const outcome = await next.value.outcome;
      if (outcome.ok) {
        if (outcome.data.length !== this.sampleSize) {
          throw new TesseraError(
            'E_INPUT',
            `BatchLoader: item ${index} gave ${outcome.data.length} values, expected ${this.sampleSize} ([${this.options.sampleShape}])`,
          );
        }
        data.set(outcome.data, batch.count * this.sampleSize);
        batch.count++;
        batch.items.push(item);
        batch.indices.push(index);
        this.counts.loaded++;
        continue;
      }
      const { error } = outcome;
      if (!isTesseraError(error) && !this.options.skipUnexpectedErrors) throw error;
      const code = isTesseraError(error) ? error.code : 'E_UNEXPECTED';
      this.counts.skipped++;
      this.counts.skippedByReason[code] = (this.counts.skippedByReason[code] ?? 0) + 1;
      this.options.onSkip?.(item, index, error);
    }
    return batch;
  }
}

export interface ImageBatchLoaderOptions extends Omit<BatchLoaderOptions<ImageInput>, 'items' | 'load' | 'sampleShape'> {
  /** Train-time augmentation; each item gets its own generator from (seed, index), so results do not depend on load order. */
  augment?: { augmenter: ImageAugmenter; seed: number; caption?: (index: number) => string | undefined };
}

/** Batches of `[B, 3, H, W]` pixel values from image paths/buffers through `processor` (or an augmenter). */
export function imageBatchLoader(
  items: Iterable<ImageInput> | AsyncIterable<ImageInput>,
  processor: ImageProcessor,
  options: ImageBatchLoaderOptions,
): BatchLoader<ImageInput> {
  const { augment } = options;
  const [h, w] = augmentedSize(processor, augment?.augmenter);
  return new BatchLoader<ImageInput>({
    ...options,
    items,
    sampleShape: [3, h, w],
    load: async (item, index) => {
      if (!augment) return (await processor.preprocess(item)).data;
      const rng = new SeededRandom(augment.seed).fork(`item ${index}`);
      return (await augment.augmenter.augment(item, rng, augment.caption?.(index))).pixels;
    },
  });
}

export interface VideoBatchLoaderOptions extends Omit<BatchLoaderOptions<string>, 'items' | 'load' | 'sampleShape'> {
  /** How to sample each clip; `numFrames` fixes T. */
  frames: Omit<SampleFramesOptions, 'fps' | 'maxFrames'> & { numFrames: number };
}

/**
 * Batches of clips `[B, T, 3, H, W]` from video paths: `numFrames` frames sampled per clip and
 * preprocessed by `processor`. Videos that cannot be read are skipped and counted like images.
 */
export function videoBatchLoader(
  paths: Iterable<string> | AsyncIterable<string>,
  processor: ImageProcessor,
  options: VideoBatchLoaderOptions,
): BatchLoader<string> {
  const [h, w] = processor.outputSize;
  const t = options.frames.numFrames;
  return new BatchLoader<string>({
    ...options,
    items: paths,
    sampleShape: [t, 3, h, w],
    load: async (path) => {
      const { frames } = await sampleFrameImages(path, options.frames);
      const out = new Float32Array(t * 3 * h * w);
      frames.forEach((frame, k) => {
        processor.toFloat(processor.transform(frame), 'channels_first', out.subarray(k * 3 * h * w, (k + 1) * 3 * h * w));
      });
      return out;
    },
  });
}

function augmentedSize(processor: ImageProcessor, augmenter?: ImageAugmenter): [number, number] {
  const rrc = augmenter?.config.randomResizedCrop;
  if (!rrc) return processor.outputSize;
  return typeof rrc.size === 'number' ? [rrc.size, rrc.size] : rrc.size;
}
