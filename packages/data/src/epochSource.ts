import { parseConfig, SeededRandom, TesseraError, tf } from '@tessera/core';
import { z } from 'zod';

/**
 * Checks the settings of an `EpochSource`: batch size, seed, shuffling, dropLast, batches kept
 * alive, and this process's rank of worldSize (a bad field is an E_CONFIG error).
 */
export const epochSourceOptionsSchema = z
  .object({
    /** Samples per batch. */
    batchSize: z.number().int().positive(),
    /** Seed of the per-epoch permutations. */
    seed: z.number().int().default(0),
    /** Permute the samples each epoch (false: natural order, PyTorch's SequentialSampler). */
    shuffle: z.boolean().default(true),
    /** End the epoch before a last batch smaller than batchSize (what contrastive losses want). */
    dropLast: z.boolean().default(false),
    /** Batches kept alive after being handed out; set it to the trainer's gradient accumulation. */
    keepAlive: z.number().int().positive().default(1),
    /** This process's share of every epoch: the samples at stream places rank, rank + worldSize, ... */
    rank: z.number().int().nonnegative().default(0),
    /** Processes sharing every epoch (data-parallel ranks). */
    worldSize: z.number().int().positive().default(1),
  })
  .strict()
  .refine((o) => o.rank < o.worldSize, { message: 'rank must be below worldSize', path: ['rank'] });
/**
 * The plain settings of an `EpochSource`, as a config file gives them. Only `batchSize` is
 * required; defaults: seed 0, shuffle true, dropLast false, keepAlive 1, rank 0, worldSize 1.
 */
export type EpochSourceSettings = z.input<typeof epochSourceOptionsSchema>;

/** Where the next batch starts (the source's state), or where a built batch sits. JSON. */
export interface EpochPosition {
  epoch: number;
  /** Samples of this epoch's stream (this rank's share) before the batch: sample b of it is at position + b. */
  position: number;
}

/** Makes one batch from its samples (augmentation, tokenization, tensors); `at` keys per-sample randomness. */
export type BatchBuilder<T, B> = (samples: T[], at: EpochPosition) => B | Promise<B>;

/** An `EpochSource`'s settings plus what it goes over and how samples become a batch. */
export interface EpochSourceOptions<B, T = number> extends EpochSourceSettings {
  /** What each epoch goes over: a list (the builder gets its items) or a count n (the builder gets indices 0..n-1). */
  samples: readonly T[] | (T extends number ? number : never);
  /** Makes each batch; the tensors it returns belong to the source, which disposes them (see keepAlive). */
  build: BatchBuilder<T, B>;
}

/**
 * A seeded, resumable stream of batches, epoch after epoch, over a list of samples (or
 * indices), like a PyTorch DataLoader over a RandomSampler: epoch `e` visits the samples in the
 * order `new SeededRandom(seed).fork('epoch-e').permutation(n)`, `batchSize` at a time;
 * `next()` gives null once at each epoch's end. `state()` is `{ epoch, position }` and
 * `restore()` continues from it exactly, since the order depends only on the seed and the epoch
 * and the builder gets each batch's place. With `rank`/`worldSize` (PyTorch's
 * DistributedSampler, without its padding) each process takes every worldSize-th sample of the
 * same order, so every sample is seen once per epoch across the ranks; ranks then get
 * `ceil((n - rank) / worldSize)` samples, so their batch counts differ by at most one.
 * Tensors in a batch belong to the source: it disposes a batch `keepAlive` batches after
 * issuing it, and everything still held on `dispose()`. Structurally a `BatchSource` of
 * @tessera/train.
 */
export class EpochSource<B, T = number> {
  /** Batches this rank gets per epoch. */
  readonly batchesPerEpoch: number;
  /** Samples this rank visits per epoch (dropLast still drops the tail of them). */
  readonly samplesPerEpoch: number;
  private readonly settings: z.output<typeof epochSourceOptionsSchema>;
  private readonly samples: readonly T[] | null;
  private readonly count: number;
  private readonly build: BatchBuilder<T, B>;
  private at: EpochPosition = { epoch: 0, position: 0 };
  private order: { epoch: number; indices: number[] } | null = null;
  private issued: B[] = [];

  constructor(options: EpochSourceOptions<B, T>) {
    const { samples, build, ...settings } = options;
    this.settings = parseConfig(epochSourceOptionsSchema, settings, 'epoch source options');
    if (typeof samples === 'number') {
      if (!Number.isInteger(samples) || samples < 0)
        throw new TesseraError('E_CONFIG', `EpochSource: samples must be a list or a count >= 0, got ${samples}`);
      this.samples = null;
      this.count = samples;
    } else {
      this.samples = samples;
      this.count = samples.length;
    }
    this.build = build;
    const { rank, worldSize, batchSize, dropLast } = this.settings;
    this.samplesPerEpoch = Math.max(0, Math.ceil((this.count - rank) / worldSize));
    this.batchesPerEpoch = (dropLast ? Math.floor : Math.ceil)(this.samplesPerEpoch / batchSize);
  }

  /** Where the next batch starts, `{ epoch, position }` (a JSON copy): store it in a checkpoint for `restore`. */
  state(): EpochPosition {
    return { ...this.at };
  }

  /**
   * Continues from a `state()`: the next batch is the one that would have followed it. Anything
   * but `{ epoch, position }` with non-negative integers is an E_INPUT error.
   */
  restore(state: unknown): void {
    const s = state as EpochPosition | null;
    if (!s || !Number.isInteger(s.epoch) || !Number.isInteger(s.position) || s.epoch < 0 || s.position < 0)
      throw new TesseraError(
        'E_INPUT',
        'EpochSource.restore: not a state from state() ({ epoch, position }); resume from a checkpoint of this run',
      );
    this.at = { epoch: s.epoch, position: s.position };
  }

  /** This rank's sample indices of an epoch, in visiting order. */
  indices(epoch: number): number[] {
    if (this.order?.epoch !== epoch) {
      const { seed, shuffle, rank, worldSize } = this.settings;
      const all = shuffle
        ? new SeededRandom(seed).fork(`epoch-${epoch}`).permutation(this.count)
        : Array.from({ length: this.count }, (_, i) => i);
      this.order = { epoch, indices: worldSize === 1 ? all : all.filter((_, p) => p % worldSize === rank) };
    }
    return this.order.indices;
  }

  /** The next batch of this epoch, or null at its end (the source then moves to the next epoch). */
  async next(): Promise<B | null> {
    const { batchSize, dropLast, keepAlive } = this.settings;
    while (this.issued.length >= keepAlive) tf.dispose(this.issued.shift() as tf.TensorContainer);
    const { epoch, position } = this.at;
    if (dropLast ? position + batchSize > this.samplesPerEpoch : position >= this.samplesPerEpoch) {
      this.at = { epoch: epoch + 1, position: 0 };
      return null;
    }
    const picked = this.indices(epoch).slice(position, position + batchSize);
    const batch = await this.build(this.samples ? picked.map((i) => this.samples?.[i] as T) : (picked as T[]), { epoch, position });
    this.at = { epoch, position: position + picked.length };
    this.issued.push(batch);
    return batch;
  }

  /** Frees the batches still held. */
  dispose(): void {
    tf.dispose(this.issued as tf.TensorContainer);
    this.issued = [];
  }
}
