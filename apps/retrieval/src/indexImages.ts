import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { isTesseraError, progress } from '@tessera/core';
import type { StoredEntry, VectorRecord, VectorStore } from '@tessera/index';
import type { DecodedImage } from '@tessera/patches';
import type { Embedder } from './embedder.js';
import { type ImageListing, insideRoots, type SourceImage } from './imageSource.js';
import { inShard, type Shard } from './shard.js';

export interface IndexOptions {
  embedder: Embedder;
  store: VectorStore;
  listing: ImageListing;
  /** Images embedded (and flushed to the store) at a time; an interrupted run keeps every finished batch. */
  batchSize?: number;
  /**
   * Flush the store after a batch when this long has passed since the last flush (0: after
   * every batch). An exact store rewrites its whole file on flush, so large collections should
   * not flush per batch; an interruption loses at most this much work.
   */
  flushIntervalMs?: number;
  /** Show a progress bar / progress lines on stderr. */
  showProgress?: boolean;
  /**
   * Index only this part of the listing (by a hash of the id) and touch only this part of the
   * store: N processes with shards 0/N..N-1/N can write one store side by side.
   */
  shard?: Shard;
}

export interface IndexReport {
  /** Images in the source (in this shard, when sharded). */
  total: number;
  added: number;
  /** Re-embedded because their content changed. */
  updated: number;
  /** Same content: kept (a new mtime or path is recorded without re-embedding). */
  unchanged: number;
  /** Store entries removed because their file vanished or can no longer be read. */
  deleted: number;
  /** Images not indexed, by reason (error code or manifest reason). */
  skipped: Record<string, number>;
}

interface Pending {
  image: SourceImage;
  bytes: Uint8Array;
  hash: string;
  mtime: number;
  isNew: boolean;
}

/**
 * Brings `store` in line with the listing: embeds new and changed images (by mtime, then by
 * content hash), drops entries whose file vanished, and records why any image was skipped.
 * Upserts are keyed by id and flushed every `flushIntervalMs`, so an interrupted run can simply
 * be rerun: flushed batches are unchanged then, and nothing is duplicated.
 */
export async function indexImages(options: IndexOptions): Promise<IndexReport> {
  const { embedder, store, listing } = options;
  const batchSize = options.batchSize ?? 32;
  const flushIntervalMs = options.flushIntervalMs ?? 10_000;
  let lastFlush = performance.now();
  const { shard } = options;
  const mine = (id: string) => shard === undefined || inShard(id, shard);
  // Other shards' entries are not ours to compare or delete.
  const known = new Map<string, StoredEntry>((await store.entries()).filter((e) => mine(e.id)).map((e) => [e.id, e]));
  const images = listing.images.filter((image) => mine(image.id));
  const report: IndexReport = {
    total: images.length,
    added: 0,
    updated: 0,
    unchanged: 0,
    deleted: 0,
    // Manifest rows that were never images are reported once, by the first shard, so shard reports add up.
    skipped: shard === undefined || shard.index === 0 ? { ...listing.skipped } : {},
  };
  const skip = (reason: string) => {
    report.skipped[reason] = (report.skipped[reason] ?? 0) + 1;
  };
  const keep = new Set<string>();
  const todo: Pending[] = [];

  for (const image of images) {
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(image.path);
    } catch {
      skip('E_FILE_NOT_FOUND');
      continue;
    }
    if (!(await insideRoots(image.path, [listing.root]))) {
      skip('E_OUTSIDE_ROOT');
      continue;
    }
    const old = known.get(image.id);
    if (old && old.mtime === info.mtimeMs && old.path === image.path) {
      keep.add(image.id);
      report.unchanged++;
      continue;
    }
    const bytes = new Uint8Array(await readFile(image.path));
    const hash = createHash('sha256').update(bytes).digest('hex');
    if (old && old.hash === hash) {
      const stored = await store.get(image.id);
      if (stored) {
        await store.upsert(embedder.modelId, [{ ...stored, ...image, mtime: info.mtimeMs, hash }]);
        keep.add(image.id);
        report.unchanged++;
        continue;
      }
    }
    todo.push({ image, bytes, hash, mtime: info.mtimeMs, isNew: !old });
  }

  const bar = options.showProgress ? progress({ label: 'index', total: todo.length, unit: 'img' }) : null;
  for (let start = 0; start < todo.length; start += batchSize) {
    const batch = todo.slice(start, start + batchSize);
    const decoded: { item: Pending; image: DecodedImage }[] = [];
    for (const item of batch) {
      try {
        decoded.push({ item, image: await embedder.decode(item.bytes, item.image.path) });
      } catch (error) {
        if (!isTesseraError(error)) throw error;
        skip(error.code);
      }
    }
    const vectors = embedder.embedImages(decoded.map((d) => d.image));
    const records: VectorRecord[] = decoded.map(({ item }, i) => ({
      ...item.image,
      vector: vectors[i] as Float32Array,
      hash: item.hash,
      mtime: item.mtime,
    }));
    if (records.length > 0) await store.upsert(embedder.modelId, records);
    if (performance.now() - lastFlush >= flushIntervalMs) {
      await store.flush();
      lastFlush = performance.now();
    }
    for (const { item } of decoded) {
      keep.add(item.image.id);
      if (item.isNew) report.added++;
      else report.updated++;
    }
    bar?.tick(batch.length, { skipped: Object.values(report.skipped).reduce((a, b) => a + b, 0) });
  }
  bar?.stop();

  const stale = [...known.keys()].filter((id) => !keep.has(id));
  if (stale.length > 0) report.deleted = await store.delete(stale);
  await store.flush();
  return report;
}
