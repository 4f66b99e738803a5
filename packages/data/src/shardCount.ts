import { readSidecar } from './shardStream.js';
import { readShard } from './shards.js';
import { SkipCounter } from './skipCounter.js';

/** What `countShardSamples` found: the total, and how many shards it took from stats files or read. */
export interface ShardSampleCount {
  /** Samples in all the shards: stats `successes` plus the samples read from shards without stats. */
  samples: number;
  /** Shards whose count came from img2dataset's `{shard}_stats.json`. */
  fromStats: number;
  /** Shards read to count them (no usable stats file). */
  counted: number;
}

/** `dir/00000.tar` -> `dir/00000_stats.json`, img2dataset's per-shard summary. */
export function statsLocation(shard: string): string {
  return `${shard.replace(/\.tar$/i, '')}_stats.json`;
}

/** `successes` of a stats file, or null when it is absent or has no such count. */
async function statsSuccesses(shard: string): Promise<number | null> {
  const text = await readSidecar(statsLocation(shard));
  if (text === null) return null;
  try {
    const n = (JSON.parse(text) as { successes?: unknown }).successes;
    return Number.isInteger(n) && (n as number) >= 0 ? (n as number) : null;
  } catch {
    return null;
  }
}

/**
 * Samples in a list of shards without reading them when img2dataset left a
 * `{shard}_stats.json` beside each (its `successes`); other shards are read and counted.
 * Stats count what img2dataset wrote, so a sample skipped on read is still counted: use it
 * for progress totals and steps per epoch, not as an exact length.
 */
export async function countShardSamples(shards: readonly string[], skips = new SkipCounter()): Promise<ShardSampleCount> {
  const out: ShardSampleCount = { samples: 0, fromStats: 0, counted: 0 };
  for (const shard of shards) {
    const stats = await statsSuccesses(shard);
    if (stats !== null) {
      out.samples += stats;
      out.fromStats++;
      continue;
    }
    for await (const _ of readShard(shard, skips)) out.samples++;
    out.counted++;
  }
  return out;
}
