import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseConfig, TesseraError } from '@tessera/core';
import { z } from 'zod';
import { braceExpand } from './braceExpand.js';
import { type Manifest, type ManifestOptions, readManifest } from './manifest.js';
import { type DataRecord, loadImageBytes, parseCaptions } from './record.js';
import { openShard, ShardStreamError } from './shardStream.js';
import { SkipCounter, type SkipReason, SkipSample } from './skipCounter.js';
import { readTarStream, TarFormatError, TarWriter } from './tar.js';

/** Extensions read as the media (`image`) of a WebDataset sample: images, and videos for video-text data. */
const IMAGE_EXTS = new Set(['png', 'jpg', 'jpeg', 'webp', 'gif', 'bmp', 'mp4', 'webm', 'mkv', 'avi', 'mov']);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Checks `WriteShardsOptions`; `writeShards` throws E_CONFIG for a bad or unknown field. */
export const writeShardsOptionsSchema = z
  .object({
    /** A manifest path (read with `manifestOptions`) or a manifest already read. */
    manifest: z.union([z.string().min(1), z.custom<Manifest>((v) => typeof v === 'object' && v !== null && 'records' in v)]),
    /** Directory the shards go to (created if missing). */
    outDir: z.string().min(1),
    /** Samples per shard; the last shard may hold fewer. */
    perShard: z.number().int().positive().default(1000),
    /** Shard file names are `<prefix>-000000.tar`. */
    prefix: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/)
      .default('shard'),
    /** How to read `manifest` when it is a path. */
    manifestOptions: z.custom<ManifestOptions>().optional(),
    /** Called after each sample is written or skipped, for progress bars. */
    onSample: z.custom<(done: number, total: number) => void>((v) => typeof v === 'function').optional(),
  })
  .strict();
/**
 * What `writeShards` converts and where: the manifest, the output directory, samples per shard
 * (default 1000), the shard name prefix (default `shard`, letters, digits, `_` and `-`) and a
 * progress callback.
 */
export type WriteShardsOptions = z.input<typeof writeShardsOptionsSchema>;

/** What `writeShards` wrote: the shards in order, the samples in them, and what was skipped. */
export interface WriteShardsResult {
  /** Paths of the shards written, `<outDir>/<prefix>-000000.tar` onwards. */
  shards: string[];
  /** Samples written across all shards. */
  samples: number;
  /** Manifest rows skipped plus samples whose image could not be read. */
  skipped: SkipCounter;
}

/**
 * Writes a manifest as WebDataset shards: each sample is `<key>.<png|jpg|...>` (the image
 * bytes as they are), `<key>.txt` (the first caption, what open_clip and img2dataset readers
 * take) and `<key>.json` (`captions`, `split`, meta fields). Keys are the
 * sample's index, zero-padded. Each shard is written to a temp file and renamed, and
 * shards of an earlier, longer run with the same prefix are removed.
 */
export async function writeShards(options: WriteShardsOptions): Promise<WriteShardsResult> {
  const opts = parseConfig(writeShardsOptionsSchema, options, 'writeShards options');
  const manifest = typeof opts.manifest === 'string' ? await readManifest(opts.manifest, opts.manifestOptions) : opts.manifest;
  const skipped = new SkipCounter();
  skipped.addCounts(manifest.skipped.counts());
  await mkdir(opts.outDir, { recursive: true });

  const shards: string[] = [];
  let samples = 0;
  let done = 0;
  const total = manifest.records.length;
  let current: { writer: TarWriter; handle: Awaited<ReturnType<typeof open>>; temp: string; target: string; count: number } | null = null;

  const closeShard = async () => {
    if (!current) return;
    await current.writer.finish();
    await current.handle.sync();
    await current.handle.close();
    await rename(current.temp, current.target);
    shards.push(current.target);
    current = null;
  };

  try {
    for (const record of manifest.records) {
      let bytes: Uint8Array;
      try {
        bytes = await loadImageBytes(record);
      } catch (error) {
        if (!(error instanceof SkipSample)) throw error;
        skipped.add(error.reason, record.key, error.message);
        opts.onSample?.(++done, total);
        continue;
      }
      if (!current) {
        const target = path.join(opts.outDir, `${opts.prefix}-${String(shards.length).padStart(6, '0')}.tar`);
        const temp = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
        const handle = await open(temp, 'w');
        current = { writer: new TarWriter(handle), handle, temp, target, count: 0 };
      }
      const key = String(samples).padStart(9, '0');
      const json: Record<string, unknown> = { ...record.meta, captions: record.captions, source: record.key };
      if (record.split !== undefined) json.split = record.split;
      await current.writer.add(`${key}.${record.image.ext || 'img'}`, bytes);
      await current.writer.add(`${key}.json`, encoder.encode(JSON.stringify(json)));
      await current.writer.add(`${key}.txt`, encoder.encode(record.captions[0]?.text ?? ''));
      samples++;
      current.count++;
      opts.onSample?.(++done, total);
      if (current.count >= opts.perShard) await closeShard();
    }
    await closeShard();
  } catch (error) {
    const open_ = current as { handle: { close(): Promise<void> }; temp: string } | null;
    if (open_) {
      await open_.handle.close().catch(() => undefined);
      await rm(open_.temp, { force: true });
    }
    throw error;
  }
  await removeStaleShards(opts.outDir, opts.prefix, shards.length);
  return { shards, samples, skipped };
}

async function removeStaleShards(dir: string, prefix: string, keep: number): Promise<void> {
  const pattern = new RegExp(`^${prefix}-(\\d{6})\\.tar$`);
  for (const name of await readdir(dir)) {
    const m = pattern.exec(name);
    if (m && Number(m[1]) >= keep) await rm(path.join(dir, name), { force: true });
  }
}

const isUrl = (spec: string) => /^(https?|file):\/\//i.test(spec);

/**
 * Lists shards: a directory (its `*.tar`, sorted), a file, an `http(s)://` or `file://` URL,
 * or WebDataset brace notation `shards/{00000..00009}.tar` (see braceExpand); several
 * patterns may be joined with `::` as webdataset allows. Expanded names are not checked:
 * a missing one is skipped and counted when read.
 */
export async function resolveShards(spec: string | readonly string[]): Promise<string[]> {
  if (typeof spec !== 'string') return [...spec];
  const patterns = spec.split('::');
  const expanded = patterns.flatMap((p) => braceExpand(p));
  if (patterns.length > 1 || expanded.length > 1 || expanded[0] !== spec || isUrl(spec)) return expanded;
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(spec);
  } catch (error) {
    throw new TesseraError(
      'E_IO',
      `No shards at ${spec}: give a directory of .tar files, a .tar file, a URL, or a {00000..00009} pattern.`,
      {
        details: { path: spec },
        cause: error,
      },
    );
  }
  if (!info.isDirectory()) return [spec];
  const names = (await readdir(spec)).filter((n) => n.endsWith('.tar')).sort();
  if (names.length === 0)
    throw new TesseraError('E_IO', `No .tar shards in ${spec}. Write some with \`tessera data shard\`.`, { details: { path: spec } });
  return names.map((n) => path.join(spec, n));
}

/** Splits a tar member name into WebDataset key and extension: `a/b.c.png` -> [`a/b`, `c.png`]. */
export function splitKey(name: string): [string, string] {
  const slash = name.lastIndexOf('/');
  const dot = name.indexOf('.', slash + 1);
  return dot < 0 ? [name, ''] : [name.slice(0, dot), name.slice(dot + 1).toLowerCase()];
}

function toRecord(shard: string, key: string, files: Map<string, Uint8Array>, skips: SkipCounter): DataRecord | null {
  const where = `${shard}#${key}`;
  const imageExt = [...files.keys()].find((ext) => IMAGE_EXTS.has(ext));
  if (imageExt === undefined) {
    skips.add('incomplete_sample', where, 'no image file');
    return null;
  }
  const jsonBytes = files.get('json');
  const txtBytes = files.get('txt');
  if (!jsonBytes && !txtBytes) {
    skips.add('incomplete_sample', where, 'no .json or .txt caption');
    return null;
  }
  let meta: Record<string, unknown> = {};
  if (jsonBytes) {
    try {
      meta = JSON.parse(decoder.decode(jsonBytes));
    } catch {
      skips.add('malformed_json', where);
      return null;
    }
    if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) {
      skips.add('malformed_json', where);
      return null;
    }
  }
  const lang = typeof meta.lang === 'string' ? meta.lang : undefined;
  // img2dataset and open_clip take the caption from .txt; Tessera's json may hold several
  // captions with languages, so it wins when it has them, else .txt, else the json's caption.
  const captions =
    meta.captions !== undefined || !txtBytes
      ? parseCaptions(meta.captions ?? meta.caption ?? meta.text, lang)
      : parseCaptions(decoder.decode(txtBytes), lang);
  if (captions === null) {
    skips.add('malformed_json', where, 'captions must be a string or an array');
    return null;
  }
  if (captions.length === 0) {
    skips.add('empty_caption', where);
    return null;
  }
  const { captions: _c, caption: _c1, text: _t, lang: _l, split, ...rest } = meta;
  const record: DataRecord = {
    key,
    image: { bytes: files.get(imageExt) as Uint8Array, ext: imageExt === 'jpeg' ? 'jpg' : imageExt },
    captions,
    meta: rest,
  };
  if (typeof split === 'string') record.split = split;
  return record;
}

/** How a shard that broke off is counted. */
function brokenReason(error: TarFormatError | ShardStreamError): SkipReason {
  if (error instanceof TarFormatError) return error.kind === 'truncated' ? 'truncated_shard' : 'corrupt_shard';
  return error.status === 404 ? 'missing_shard' : 'unreadable_shard';
}

/**
 * Streams the samples of one shard in order, from a path, a `file://` or an `http(s)://`
 * URL. Consecutive members sharing a key form a sample. A shard that fails part way
 * (truncated or corrupt tar, HTTP error, dropped connection) ends early: it is counted once
 * as `truncated_shard`, `corrupt_shard`, `missing_shard` or `unreadable_shard`, the samples
 * before the break are kept, and reading goes on with the next shard.
 */
export async function* readShard(file: string, skips: SkipCounter): AsyncGenerator<DataRecord> {
  let key: string | null = null;
  let files = new Map<string, Uint8Array>();
  let broken: TarFormatError | ShardStreamError | null = null;
  try {
    for await (const entry of readTarStream(openShard(file), file)) {
      const [k, ext] = splitKey(entry.name);
      if (k !== key) {
        if (key !== null) {
          const record = toRecord(file, key, files, skips);
          if (record) yield record;
        }
        key = k;
        files = new Map();
      }
      files.set(ext, entry.data);
    }
  } catch (error) {
    if (error instanceof TarFormatError || error instanceof ShardStreamError) broken = error;
    else if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      skips.add('missing_shard', file);
      return;
    } else throw error;
  }
  if (key === null) {
    if (broken) skips.add(brokenReason(broken), file, broken.message);
    return;
  }
  // After a break the pending sample is kept if it is whole; the lost tail counts once.
  const record = toRecord(file, key, files, broken ? new SkipCounter() : skips);
  if (record) yield record;
  if (broken) skips.add(brokenReason(broken), `${file}#${key}`, broken.message);
}
