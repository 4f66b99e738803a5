import { parseConfig, TesseraError } from '@tessera/core';
import { z } from 'zod';

/** Checks `ShardSplitOptions`: rank below worldSize and workerId below numWorkers, else E_CONFIG. */
export const shardSplitOptionsSchema = z
  .object({
    /** This process's rank among the `worldSize` training processes. */
    rank: z.number().int().nonnegative().default(0),
    /** Processes training together (data-parallel ranks). */
    worldSize: z.number().int().positive().default(1),
    /** A data-loading worker within the rank (PyTorch DataLoader's worker id). */
    workerId: z.number().int().nonnegative().default(0),
    /** Data-loading workers per rank. */
    numWorkers: z.number().int().positive().default(1),
  })
  .strict()
  .refine((o) => o.rank < o.worldSize, { message: 'rank must be below worldSize', path: ['rank'] })
  .refine((o) => o.workerId < o.numWorkers, { message: 'workerId must be below numWorkers', path: ['workerId'] });
/** Which (rank, worker) slot `splitShards` returns the shards of; every field defaults to one slot (0 of 1). */
export type ShardSplitOptions = z.input<typeof shardSplitOptionsSchema>;

/**
 * The shards one (rank, worker) reads: shard i goes to slot i mod (worldSize * numWorkers),
 * slot = rank * numWorkers + workerId, so across all ranks and workers every shard, and so
 * every sample, is read exactly once per epoch. Fewer shards than slots would leave some
 * idle (and ranks out of step), so it is an E_CONFIG error.
 */
export function splitShards<T>(shards: readonly T[], options: ShardSplitOptions = {}): T[] {
  const { rank, worldSize, workerId, numWorkers } = parseConfig(shardSplitOptionsSchema, options, 'shard split options');
  const slots = worldSize * numWorkers;
  if (shards.length < slots)
    throw new TesseraError(
      'E_CONFIG',
      `${shards.length} shards cannot feed ${worldSize} ranks x ${numWorkers} workers (${slots} slots): write at least ${slots} shards (smaller perShard) or use fewer ranks or workers`,
      { details: { shards: shards.length, worldSize, numWorkers } },
    );
  const slot = rank * numWorkers + workerId;
  return shards.filter((_, i) => i % slots === slot);
}
