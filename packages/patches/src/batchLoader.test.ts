import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { initBackend, TesseraError, tf } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ImageAugmenter } from './augment.js';
import { BatchLoader, imageBatchLoader } from './batchLoader.js';
import { INPUT_ERROR_CODES } from './errors.js';
import { ImageProcessor } from './imageProcessor.js';

const fixtures = path.join(import.meta.dirname, '../test/fixtures');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('BatchLoader', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  it('keeps input order in batches with bounded concurrency, whatever order loads finish in', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const loader = new BatchLoader<number>({
      items: Array.from({ length: 10 }, (_, i) => i),
      sampleShape: [2],
      batchSize: 4,
      concurrency: 3,
      logSummary: false,
      load: async (item) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await sleep((7 * item) % 5); // later items often finish first
        inFlight--;
        return Float32Array.of(item, -item);
      },
    });
    const batches: number[][] = [];
    for await (const batch of loader) {
      batches.push(Array.from(batch.pixels.dataSync()));
      expect(batch.pixels.shape).toEqual([batch.items.length, 2]);
      batch.pixels.dispose();
    }
    expect(batches).toEqual([
      [0, -0, 1, -1, 2, -2, 3, -3],
      [4, -4, 5, -5, 6, -6, 7, -7],
      [8, -8, 9, -9],
    ]);
    expect(maxInFlight).toBeLessThanOrEqual(3);
    expect(maxInFlight).toBeGreaterThan(1);
  });

  it('prefetches ahead of a slow consumer, but only `prefetch` batches', async () => {
    let started = 0;
    const loader = new BatchLoader<number>({
      items: Array.from({ length: 100 }, (_, i) => i),
      sampleShape: [1],
      batchSize: 2,
      prefetch: 2,
      concurrency: 2,
      logSummary: false,
      load: async (item) => {
        started++;
        return Float32Array.of(item);
      },
    });
    const it = loader[Symbol.asyncIterator]();
    const first = await it.next();
    (first.value as { pixels: tf.Tensor }).pixels.dispose();
    await sleep(200); // the consumer "trains"; the loader works meanwhile
    // Ready: 2 batches (4 items) + the one taken (2) + at most `concurrency` in flight.
    expect(started).toBeGreaterThanOrEqual(6);
    expect(started).toBeLessThanOrEqual(2 + 4 + 2);
    await it.return?.();
  });

  it('skips bad images, counts them by reason, and loses nothing else', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'patches-loader-'));
    const textPng = path.join(dir, 'notes.png');
    await writeFile(textPng, 'not a png');
    const truncated = path.join(dir, 'cut.jpg');
    const photo = path.join(fixtures, 'photos/home.jpg');
    await writeFile(truncated, (await import('node:fs')).readFileSync(photo).subarray(0, 2000));
    const good = [photo, path.join(fixtures, 'photos/HappyFish.jpg'), path.join(fixtures, 'emoji/1f436.png')];
    const items = [good[0], path.join(dir, 'missing.jpg'), textPng, good[1], truncated, good[2]] as string[];
    const processor = ImageProcessor.fromConfig({ size: 16, crop_size: 16 });
    const skipped: string[] = [];
    const loader = imageBatchLoader(items, processor, {
      batchSize: 2,
      concurrency: 3,
      logSummary: false,
      onSkip: (item, _i, error) => skipped.push(`${path.basename(item as string)}:${(error as TesseraError).code}`),
    });
    const seen: string[] = [];
    for await (const batch of loader) {
      seen.push(...batch.items.map((x) => path.basename(x as string)));
      const expected = await processor.process(batch.items);
      expect(tf.tidy(() => tf.max(tf.abs(tf.sub(batch.pixels, expected))).dataSync()[0])).toBe(0);
      tf.dispose([batch.pixels, expected]);
    }
    expect(seen).toEqual(['home.jpg', 'HappyFish.jpg', '1f436.png']);
    expect(loader.stats()).toEqual({
      loaded: 3,
      skipped: 3,
      skippedByReason: { [INPUT_ERROR_CODES.notFound]: 1, [INPUT_ERROR_CODES.unrecognized]: 1, [INPUT_ERROR_CODES.corrupt]: 1 },
    });
    expect(skipped).toEqual(['missing.jpg:E_FILE_NOT_FOUND', 'notes.png:E_IMAGE_UNRECOGNIZED', 'cut.jpg:E_IMAGE_CORRUPT']);
    expect(loader.summary()).toBe('loaded 3, skipped 3 (E_FILE_NOT_FOUND: 1, E_IMAGE_CORRUPT: 1, E_IMAGE_UNRECOGNIZED: 1)');
    await rm(dir, { recursive: true, force: true });
  });

  it('stops on errors that are bugs unless told to skip them too', async () => {
    const load = async (item: number) => {
      if (item === 1) throw new TypeError('bug');
      if (item === 2) throw new TesseraError('E_IMAGE_CORRUPT', 'bad');
      return Float32Array.of(item);
    };
    const strict = new BatchLoader<number>({ items: [0, 1, 2, 3], sampleShape: [1], batchSize: 2, load, logSummary: false });
    await expect(
      (async () => {
        for await (const b of strict) b.pixels.dispose();
      })(),
    ).rejects.toThrow('bug');
    const lenient = new BatchLoader<number>({
      items: [0, 1, 2, 3],
      sampleShape: [1],
      batchSize: 2,
      load,
      skipUnexpectedErrors: true,
      logSummary: false,
    });
    const got: number[] = [];
    for await (const b of lenient) {
      got.push(...b.pixels.dataSync());
      b.pixels.dispose();
    }
    expect(got).toEqual([0, 3]);
    expect(lenient.stats().skippedByReason).toEqual({ E_UNEXPECTED: 1, E_IMAGE_CORRUPT: 1 });
  });

  it('gives the same augmented batches whatever the concurrency, and leaks no tensors', async () => {
    const processor = new ImageProcessor();
    const augmenter = new ImageAugmenter(processor, {
      randomResizedCrop: { size: 16 },
      horizontalFlip: {},
      colorJitter: { brightness: 0.3 },
    });
    const files = ['photos/home.jpg', 'photos/squirrel_cls.jpg', 'emoji/1f600.png', 'photos/HappyFish.jpg'].map((f) =>
      path.join(fixtures, f),
    );
    const before = tf.memory().numTensors;
    const run = async (concurrency: number) => {
      const out: number[] = [];
      for await (const b of imageBatchLoader(files, processor, {
        batchSize: 3,
        concurrency,
        logSummary: false,
        augment: { augmenter, seed: 5 },
      })) {
        out.push(...b.pixels.dataSync());
        b.pixels.dispose();
      }
      return out;
    };
    const one = await run(1);
    expect(one.length).toBe(4 * 3 * 16 * 16);
    expect(await run(4)).toEqual(one);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => new BatchLoader({ items: [], sampleShape: [1], batchSize: 0, load: async () => Float32Array.of(0) })).toThrow(
      expect.objectContaining({ code: 'E_CONFIG' }),
    );
  });
});
