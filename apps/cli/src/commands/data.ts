import { createLogger, type Progress, progress } from '@tessera/core';
import { readManifest, writeShards } from '@tessera/data';
import { buildEmojiDataset } from '@tessera/dataset-emoji';
import { buildMovingEmojiDataset } from '@tessera/dataset-moving-emoji';
import { Command, InvalidArgumentError } from 'commander';

const log = createLogger('data');

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function fraction(value: string): number {
  const n = Number(value);
  if (!(n >= 0 && n <= 0.9)) throw new InvalidArgumentError('expected a number between 0 and 0.9');
  return n;
}

/** A progress bar created on the first tick, once the total is known. */
function lazyProgress(label: string, unit: string) {
  let bar: Progress | null = null;
  return {
    tick(done: number, total: number) {
      bar ??= progress({ label, total, unit });
      bar.tick(1);
      if (done === total) {
        bar.stop();
        bar = null;
      }
    },
  };
}

/**
 * `data` commands for the `tessera` CLI: `data emoji` builds the built-in image dataset,
 * `data shard` writes a manifest as WebDataset tar shards, `data moving-emoji` builds
 * captioned video clips.
 */
export function createDataCommand(): Command {
  const data = new Command('data').description(
    'Build and convert text-image datasets (manifests, WebDataset shards, the built-in emoji set)',
  );

  data
    .command('emoji')
    .description(
      'Build the emoji text-image dataset from npm packages: Google-style images for training, Twitter-style for the test split, held-out concepts for a zero-shot split; captions in English and Chinese',
    )
    .requiredOption('--out <dir>', 'output folder (images, train/test/zeroshot.jsonl, licences)')
    .option('--seed <n>', 'seed for choosing the zero-shot concepts', (v) => Number.parseInt(v, 10), 0)
    .option('--zero-shot-fraction <f>', 'fraction of concepts held out for zero-shot', fraction, 0.1)
    .option('--zero-shot-category <name...>', 'hold out whole categories too (e.g. "Animals & Nature")')
    .option('--skin-tones', 'include skin-tone variants as concepts of their own', false)
    .option('--limit <n>', 'only N concepts, evenly spread (a quick small set)', positiveInt)
    .option('--force', 'rebuild even when an identical build is already there', false)
    .addHelpText(
      'after',
      '\nExample:\n  tessera data emoji --out data/emoji\n\nRerunning with the same options is instant; licences and attribution are written next to the data.',
    )
    .action(async (o) => {
      const bar = lazyProgress('emoji images', 'img');
      const result = await buildEmojiDataset({
        outDir: o.out,
        seed: o.seed,
        zeroShotFraction: o.zeroShotFraction,
        zeroShotCategories: o.zeroShotCategory ?? [],
        skinTones: o.skinTones,
        limit: o.limit,
        force: o.force,
        onProgress: (done, total) => bar.tick(done, total),
      });
      const counts = Object.entries(result.splits).map(([s, v]) => `${s} ${v.count}`);
      log.info(`${result.reused ? 'already built' : `built (${result.copied} images copied)`} in ${result.outDir}: ${counts.join(', ')}`);
    });

  data
    .command('shard')
    .description('Write a manifest (JSONL, CSV or TSV) as WebDataset tar shards: <key>.<png|jpg> + <key>.json + <key>.txt per sample')
    .requiredOption('--manifest <file>', 'manifest file; image paths inside are relative to it')
    .requiredOption('--out <dir>', 'output folder for shard-000000.tar, shard-000001.tar, ...')
    .option('--per-shard <n>', 'samples per shard', positiveInt, 1000)
    .option('--image-key <key>', 'field/column holding the image path (default: image, filepath, file_name, path or video)')
    .option('--caption-key <key>', 'field/column holding the caption(s) (default: captions, caption, text or title)')
    .option('--prefix <name>', 'shard file name prefix', 'shard')
    .addHelpText(
      'after',
      '\nExample:\n  tessera data shard --manifest m.jsonl --out shards/ --per-shard 1000\n\nRows with a missing image path, an empty caption or a malformed line are skipped and counted.',
    )
    .action(async (o) => {
      const manifest = await readManifest(o.manifest, { imageKey: o.imageKey, captionKey: o.captionKey });
      const bar = lazyProgress('shard', 'samples');
      const result = await writeShards({
        manifest,
        outDir: o.out,
        perShard: o.perShard,
        prefix: o.prefix,
        onSample: (d, t) => bar.tick(d, t),
      });
      log.info(`wrote ${result.samples} samples in ${result.shards.length} shards to ${o.out}; ${result.skipped.toString()}`);
      for (const e of result.skipped.examples()) log.warn(`skipped ${e.reason} at ${e.where}${e.message ? `: ${e.message}` : ''}`);
    });

  data
    .command('moving-emoji')
    .description(
      'Build captioned video clips of one or two emoji moving on a canvas (H.264 mp4 via ffmpeg), captions in English and Chinese; the test split holds out emoji-motion pairings',
    )
    .requiredOption('--out <dir>', 'output folder (clips/, train.jsonl, test.jsonl, manifest.jsonl, licences)')
    .option('--clips <n>', 'number of clips', positiveInt, 1000)
    .option('--seed <n>', 'seed for emoji, motions, positions and splits', (v) => Number.parseInt(v, 10), 0)
    .option('--concepts <n>', 'number of distinct emoji', positiveInt, 100)
    .option('--size <px>', 'frame width and height (even)', positiveInt, 64)
    .option('--frames <n>', 'frames per clip', positiveInt, 16)
    .option('--fps <n>', 'frames per second', positiveInt, 8)
    .option('--ffmpeg <path>', 'ffmpeg executable (default: $TESSERA_FFMPEG, else ffmpeg on PATH, else @ffmpeg-installer/ffmpeg)')
    .option('--force', 'rebuild even when an identical build is already there', false)
    .addHelpText(
      'after',
      '\nExample:\n  tessera data moving-emoji --out data/moving-emoji --clips 1000 --seed 0\n\nAn interrupted build resumes where it stopped; rerunning a finished one is instant.',
    )
    .action(async (o) => {
      const bar = lazyProgress('clips', 'clips');
      const result = await buildMovingEmojiDataset({
        outDir: o.out,
        clips: o.clips,
        seed: o.seed,
        concepts: o.concepts,
        size: o.size,
        frames: o.frames,
        fps: o.fps,
        ffmpegPath: o.ffmpeg,
        force: o.force,
        onProgress: (done, total) => bar.tick(done, total),
      });
      log.info(
        `${result.reused ? 'already built' : `built (${result.encoded} clips encoded)`} in ${result.outDir}: train ${result.counts.train}, test ${result.counts.test}`,
      );
    });

  return data;
}
