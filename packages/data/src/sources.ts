import path from 'node:path';
import type { SeededRandom } from '@tessera/core';
import { type Manifest, type ManifestOptions, readManifest } from './manifest.js';
import type { DataRecord } from './record.js';
import { readShard, resolveShards } from './shards.js';
import type { SkipCounter } from './skipCounter.js';

/**
 * Where a loader's records come from. `records` gives one epoch's records in an order that
 * depends only on `rng` (null: natural order), so an epoch can be replayed exactly.
 */
export interface RecordSource {
  records(rng: SeededRandom | null, skips: SkipCounter): AsyncIterable<DataRecord>;
}

/** Records of a manifest read into memory; shuffling permutes all of them. */
export function manifestSource(manifest: Manifest | readonly DataRecord[]): RecordSource {
  const records = 'records' in manifest ? manifest.records : manifest;
  return {
    async *records(rng) {
      const order = rng ? rng.permutation(records.length) : records.map((_, i) => i);
      for (const i of order) yield records[i] as DataRecord;
    },
  };
}

/**
 * Samples streamed from WebDataset shards, one entry in memory at a time; shuffling
 * permutes the shard order (pair it with the loader's shuffle buffer).
 */
export function shardSource(shards: readonly string[]): RecordSource {
  return {
    async *records(rng, skips) {
      const order = rng ? rng.permutation(shards.length) : shards.map((_, i) => i);
      for (const i of order) yield* readShard(shards[i] as string, skips);
    },
  };
}

/**
 * Opens what a user names as data: a manifest (`.jsonl`, `.json`, `.ndjson`, `.csv`, `.tsv`),
 * read into memory with its skip counts, or WebDataset shards (a `.tar`, a folder of them,
 * `shard-{000000..000009}.tar`, or a list), streamed. Both can be given to `DataLoader`.
 */
export async function openSource(spec: string | readonly string[], manifestOptions?: ManifestOptions): Promise<Manifest | RecordSource> {
  if (typeof spec === 'string' && /^\.(jsonl|json|ndjson|csv|tsv|tab)$/i.test(path.extname(spec)))
    return readManifest(spec, manifestOptions);
  return shardSource(await resolveShards(spec));
}
