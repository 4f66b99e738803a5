import { createHash } from 'node:crypto';
import { TesseraError } from '@tessera/core';

/** One of `count` disjoint parts of a collection, as `tessera index --shard index/count` names it. */
export interface Shard {
  index: number;
  count: number;
}

/** Parses `i/n` (0 <= i < n); anything else is E_CONFIG naming the option. */
export function parseShard(value: string, option = '--shard'): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(value.trim());
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || !Number.isSafeInteger(count) || count < 1 || index >= count) {
    throw new TesseraError('E_CONFIG', `${option} must be i/n with 0 <= i < n (e.g. 0/4 for the first of 4 indexers), got '${value}'`, {
      details: { option, value },
    });
  }
  return { index, count };
}

/**
 * The shard an id belongs to: the first 4 bytes of its SHA-256, big-endian, mod `count`. A hash
 * (not the position in the sorted listing) keeps every image in its shard when others are added.
 */
export function shardOf(id: string, count: number): number {
  return createHash('sha256').update(id).digest().readUInt32BE(0) % count;
}

export function inShard(id: string, shard: Shard): boolean {
  return shardOf(id, shard.count) === shard.index;
}
