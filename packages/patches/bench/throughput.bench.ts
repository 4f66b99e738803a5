/**
 * Images/s for decode + resize + center crop + normalize at 224 and 64 px: ours (sharp decode,
 * then the resize engine) against Pillow 12 + numpy from .venv-ref (bench/pil_peer.py, the steps
 * of CLIPImageProcessor: PIL bicubic on uint8) on the same JPEG files in the same run, at the
 * same concurrency: one image at a time, libvips and the libuv pool limited to one thread.
 * resizeEngine 'pillow' is Pillow's own bicubic (its output must equal the peer's within 1e-6);
 * 'libvips' is a different resampler (libvips cubic), labelled so, its max difference recorded.
 * Warm-up, then ROUNDS rounds alternating with the peer's; median round, min-max in details.
 * The files are made in a temp directory from the committed photos.
 *
 *   npm run bench -w @tessera/patches
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { initBackend, recordBenchmark, referencePython, SeededRandom, spread, TesseraError } from '@tessera/core';
import sharp from 'sharp';
import { ImageProcessor } from '../src/index.js';

const here = import.meta.dirname;
const photos = ['HappyFish.jpg', 'home.jpg', 'squirrel_cls.jpg'].map((f) => path.join(here, '../test/fixtures/photos', f));
const FILES = Number(process.env.BENCH_FILES ?? 48);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const TOLERANCE = 1e-6;
// One image at a time on both sides, as the peer's Dataset loop: no libvips threads, no parallel decodes.
sharp.concurrency(1);

async function makeFiles(dir: string): Promise<string[]> {
  const rng = new SeededRandom(0);
  const files: string[] = [];
  for (let i = 0; i < FILES; i++) {
    // Typical web photos: 480-800 px on the long side, varied aspect, JPEG q90.
    const src = photos[i % photos.length] as string;
    const long = 480 + rng.int(321);
    const out = path.join(dir, `img${i}.jpg`);
    await sharp(src)
      .resize(long, Math.round(long * rng.uniform(0.6, 1)), { fit: 'fill' })
      .jpeg({ quality: 90 })
      .toFile(out);
    files.push(out);
  }
  return files;
}

/** The preprocessed batch, one file per `process` call (concurrency 1). */
async function preprocess(processor: ImageProcessor, files: string[]): Promise<Float32Array> {
  const parts: Float32Array[] = [];
  for (const file of files) {
    const pixels = await processor.process([file]);
    parts.push(pixels.dataSync() as Float32Array);
    pixels.dispose();
  }
  const all = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return all;
}

async function ours(files: string[], size: number, resizeEngine: 'pillow' | 'libvips'): Promise<number> {
  const processor = ImageProcessor.fromConfig({ size, crop_size: size }, { resizeEngine });
  const start = performance.now();
  for (let r = 0; r < REPEATS; r++) await preprocess(processor, files);
  return (REPEATS * files.length) / ((performance.now() - start) / 1000);
}

function peer(files: string[], size: number, out = '-'): { rate: number; pillow: string } {
  const run = execFileSync(referencePython(), [path.join(here, 'pil_peer.py'), String(size), String(REPEATS), out, ...files], {
    encoding: 'utf8',
  });
  const result = JSON.parse(run);
  return { rate: result.images_per_s, pillow: result.pillow };
}

/** Max abs difference between ours (engine) and the peer's batch, on every file. */
async function difference(files: string[], size: number, engine: 'pillow' | 'libvips', dir: string): Promise<number> {
  const out = path.join(dir, `peer-${size}.f32`);
  peer(files, size, out);
  const theirs = new Float32Array(readFileSync(out).buffer.slice(0));
  const mine = await preprocess(ImageProcessor.fromConfig({ size, crop_size: size }, { resizeEngine: engine }), files);
  if (mine.length !== theirs.length) throw new TesseraError('E_BENCH_PEER', `peer batch has ${theirs.length} values, ours ${mine.length}`);
  let worst = 0;
  for (let i = 0; i < mine.length; i++) worst = Math.max(worst, Math.abs((mine[i] as number) - (theirs[i] as number)));
  return worst;
}

const backend = await initBackend({ backend: 'wasm' });
const dir = await mkdtemp(path.join(tmpdir(), 'patches-bench-'));
try {
  const files = await makeFiles(dir);
  for (const size of [224, 64]) {
    const diffs = { pillow: await difference(files, size, 'pillow', dir), libvips: await difference(files, size, 'libvips', dir) };
    if (diffs.pillow > TOLERANCE) {
      throw new TesseraError('E_BENCH_PEER', `resizeEngine 'pillow' differs from PIL by ${diffs.pillow} at ${size} px (> ${TOLERANCE})`);
    }
    // Other jobs share this machine: alternate the three measurements, round by round.
    const rates = { peer: [] as number[], pillow: [] as number[], libvips: [] as number[] };
    let pillowVersion = '';
    for (let round = 0; round < ROUNDS; round++) {
      const p = peer(files, size);
      pillowVersion = p.pillow;
      rates.peer.push(p.rate);
      rates.pillow.push(await ours(files, size, 'pillow'));
      rates.libvips.push(await ours(files, size, 'libvips'));
    }
    const peerRate = spread(rates.peer);
    for (const engine of ['pillow', 'libvips'] as const) {
      const oursRate = spread(rates[engine]);
      await recordBenchmark({
        benchmark: `image-preprocess-${size}-${engine}`,
        metric: `decode + resize + crop + normalize to ${size}x${size}, 1 image at a time, ${engine === 'pillow' ? 'same resampler (Pillow bicubic)' : 'different resampler (ours libvips cubic, peer PIL bicubic)'}, median round`,
        unit: 'images/s',
        ours: oursRate.median,
        peer: peerRate.median,
        peerName: `Pillow ${pillowVersion} + numpy (CLIPImageProcessor steps, 1 process, 1 image at a time)`,
        higherIsBetter: true,
        backend: `${backend.name}, sharp decode, resizeEngine '${engine}'`,
        details: {
          files: FILES,
          repeats: REPEATS,
          rounds: ROUNDS,
          imagesPerSecond: { ours: oursRate, peer: peerRate },
          maxAbsDiffFromPeer: diffs[engine],
          tolerance: engine === 'pillow' ? TOLERANCE : 'none: a different resampler',
          source: 'JPEG q90, 480-800 px long side, made from test/fixtures/photos',
          resample:
            engine === 'pillow'
              ? 'bicubic both sides: ours is a transcription of Pillow Resample.c (bit-exact), peer PIL Image.BICUBIC'
              : 'ours: libvips cubic (sharp kernel "cubic", fastShrinkOnLoad false); peer: PIL Image.BICUBIC',
          concurrency: 'one image at a time both sides; sharp.concurrency(1)',
          ours: `sharp ${sharp.versions.sharp} decode, ImageProcessor.process one file per call`,
          cpus: availableParallelism(),
          sharpConcurrency: sharp.concurrency(),
          loadAverage: loadavg()[0],
        },
      });
    }
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
