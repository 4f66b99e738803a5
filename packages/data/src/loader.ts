import { createLogger, isTesseraError, parseConfig, type RandomState, SeededRandom, TesseraError } from '@tessera/core';
import { z } from 'zod';
import { Channel } from './channel.js';
import type { Manifest } from './manifest.js';
import type { DataRecord } from './record.js';
import { shuffleBuffer } from './shuffleBuffer.js';
import { SkipCounter, SkipSample } from './skipCounter.js';
import { manifestSource, type RecordSource } from './sources.js';

const log = createLogger('data');

export const loaderOptionsSchema = z
  .object({
    batchSize: z.number().int().positive(),
    seed: z.number().int().default(0),
    /** Permute the source each epoch (manifest rows, or shard order) and pass records through the shuffle buffer. */
    shuffle: z.boolean().default(true),
    /** Shuffle buffer size in records (WebDataset's `shuffle(n)`); 0 or 1 turns the buffer off. */
    shuffleBuffer: z.number().int().nonnegative().default(1000),
    /** Keep only records whose `split` is this one (or one of these). */
    split: z.union([z.string(), z.array(z.string())]).optional(),
    /** Drop the last, short batch of an epoch (what contrastive training wants). */
    dropLast: z.boolean().default(true),
    /** Batches kept ready while the caller computes (one more is being prepared behind them). */
    prefetch: z.number().int().positive().default(2),
  })
  .strict();
export type LoaderOptions = z.input<typeof loaderOptionsSchema>;

/** What a transform gets besides the record: a generator that depends only on (seed, epoch, ordinal). */
export interface TransformContext {
  rng: SeededRandom;
  epoch: number;
  /** The record's place in this epoch's shuffled stream. */
  ordinal: number;
}

/** Decodes/encodes one record (image processor, tokenizer...); throw SkipSample(reason) to skip it. */
export type RecordTransform<T> = (record: DataRecord, context: TransformContext) => Promise<T> | T;

export interface Batch<T> {
  items: T[];
  keys: string[];
  epoch: number;
  /** Batch number within the epoch. */
  index: number;
}

/** Everything needed to resume exactly: JSON-serialisable, stored in checkpoints. */
export interface LoaderState {
  version: 1;
  seed: number;
  epoch: number;
  /** Records of this epoch's shuffled stream consumed by the batches delivered so far. */
  position: number;
  /** Batches delivered in this epoch. */
  batch: number;
  /** Samples delivered in this epoch. */
  samples: number;
  /** The epoch's generator state at its start (the epoch is replayed from it). */
  rng: RandomState;
  /** Skips counted in this epoch up to `position`. */
  skipped: Record<string, number>;
}

const loaderStateSchema = z
  .object({
    version: z.literal(1),
    seed: z.number().int(),
    epoch: z.number().int().nonnegative(),
    position: z.number().int().nonnegative(),
    batch: z.number().int().nonnegative(),
    samples: z.number().int().nonnegative(),
    rng: z.tuple([z.number().int(), z.number().int(), z.number().int(), z.number().int()]),
    skipped: z.record(z.string(), z.number().int().nonnegative()),
  })
  .strict();

export interface EpochReport {
  epoch: number;
  batches: number;
  samples: number;
  /** Skips by reason in this epoch, plus rows the manifest reader skipped. */
  skipped: Record<string, number>;
}

interface BuiltBatch<T> extends Batch<T> {
  position: number;
  skipped: Record<string, number>;
}

function epochRngState(seed: number, epoch: number): RandomState {
  return new SeededRandom(seed).fork(`epoch:${epoch}`).state();
}

function sampleSeed(state: RandomState, ordinal: number): number {
  let h = 0x9e3779b9;
  for (const w of [...state, ordinal]) {
    h = Math.imul(h ^ w, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

function skipReason(error: unknown): string {
  if (error instanceof SkipSample) return error.reason;
  if (isTesseraError(error)) return error.code;
  if ((error as NodeJS.ErrnoException)?.code === 'ENOENT') return 'missing_image';
  return 'transform_failed';
}

/**
 * Turns a record source into batches: split filter, seeded per-epoch shuffle (source
 * permutation + shuffle buffer), the caller's transform (failures skipped and counted),
 * batching and prefetch. `state()`/`restore()` resume exactly: the epoch is replayed from
 * its seed up to the saved position without running the transform.
 */
export class DataLoader<T> {
  private readonly opts: z.output<typeof loaderOptionsSchema>;
  private readonly source: RecordSource;
  private readonly readSkips: Record<string, number>;
  private seed: number;
  private epochNo = 0;
  private position = 0;
  private batchNo = 0;
  private samplesNo = 0;
  private rngState: RandomState;
  private epochSkips: Record<string, number> = {};
  private active = false;
  private readonly warned = new Set<string>();

  constructor(
    source: RecordSource | Manifest,
    private readonly transform: RecordTransform<T>,
    options: LoaderOptions,
    private readonly onEpochEnd?: (report: EpochReport) => void,
  ) {
    this.opts = parseConfig(loaderOptionsSchema, options, 'loader options');
    const isManifest = 'rows' in source && 'skipped' in source;
    this.source = isManifest ? manifestSource(source) : source;
    this.readSkips = isManifest ? source.skipped.counts() : {};
    this.seed = this.opts.seed;
    this.rngState = epochRngState(this.seed, 0);
  }

  get epoch(): number {
    return this.epochNo;
  }

  state(): LoaderState {
    return {
      version: 1,
      seed: this.seed,
      epoch: this.epochNo,
      position: this.position,
      batch: this.batchNo,
      samples: this.samplesNo,
      rng: [...this.rngState] as unknown as RandomState,
      skipped: { ...this.epochSkips },
    };
  }

  /** Continues from a saved state (the state's seed replaces the constructor's). Not while iterating. */
  restore(state: LoaderState): void {
    if (this.active)
      throw new TesseraError('E_STATE', 'Cannot restore a loader while a batch iteration is running: restore before iterating.');
    const s = parseConfig(loaderStateSchema, state, 'loader state');
    this.seed = s.seed;
    this.epochNo = s.epoch;
    this.position = s.position;
    this.batchNo = s.batch;
    this.samplesNo = s.samples;
    this.rngState = s.rng as unknown as RandomState;
    this.epochSkips = { ...s.skipped };
  }

  /** Batches for ever, epoch after epoch. */
  async *batches(): AsyncGenerator<Batch<T>> {
    for (;;) {
      const fresh = this.position === 0;
      let any = false;
      for await (const batch of this.epochBatches()) {
        any = true;
        yield batch;
      }
      if (!any && fresh)
        throw new TesseraError('E_INPUT', 'The data gave no batch in a whole epoch: check the split filter, batch size and skip counts.');
    }
  }

  /** The rest of the current epoch; when it is exhausted the loader moves to the next epoch. */
  async *epochBatches(): AsyncGenerator<Batch<T>> {
    if (this.active) throw new TesseraError('E_STATE', 'This loader is already being iterated: use one iteration at a time.');
    this.active = true;
    const epoch = this.epochNo;
    const epochStart = this.rngState;
    const epochRng = new SeededRandom(epochStart);
    const sourceRng = epochRng.fork('source');
    const bufferRng = epochRng.fork('buffer');
    const skips = new SkipCounter();
    skips.addCounts(this.epochSkips);
    const splits = this.opts.split === undefined ? null : new Set(Array.isArray(this.opts.split) ? this.opts.split : [this.opts.split]);
    const source = this.source;
    const shuffle = this.opts.shuffle;
    async function* filtered(): AsyncGenerator<DataRecord> {
      for await (const record of source.records(shuffle ? sourceRng : null, skips)) {
        if (splits === null || (record.split !== undefined && splits.has(record.split))) yield record;
      }
    }
    const stream = this.opts.shuffle ? shuffleBuffer(filtered(), this.opts.shuffleBuffer, bufferRng) : filtered();
    const it = stream[Symbol.asyncIterator]();
    const channel = new Channel<BuiltBatch<T>>(this.opts.prefetch);
    let stopped = false;

    const produce = async () => {
      // Replay up to the saved position (resume): same records, no transform, no recount.
      skips.muted = true;
      let ordinal = 0;
      let exhausted = false;
      while (ordinal < this.position) {
        if ((await it.next()).done) {
          exhausted = true;
          break;
        }
        ordinal++;
      }
      skips.muted = false;
      let index = this.batchNo;
      const { batchSize, dropLast } = this.opts;
      while (!stopped && !exhausted) {
        const items: T[] = [];
        const keys: string[] = [];
        while (items.length < batchSize && !exhausted && !stopped) {
          const pulled: [DataRecord, number][] = [];
          for (let i = items.length; i < batchSize; i++) {
            const next = await it.next();
            if (next.done) {
              exhausted = true;
              break;
            }
            pulled.push([next.value, ordinal++]);
          }
          const results = await Promise.allSettled(
            pulled.map(async ([record, o]) =>
              this.transform(record, { rng: new SeededRandom(sampleSeed(epochStart, o)), epoch, ordinal: o }),
            ),
          );
          results.forEach((result, i) => {
            const record = (pulled[i] as [DataRecord, number])[0];
            if (result.status === 'fulfilled') {
              items.push(result.value);
              keys.push(record.key);
            } else {
              const reason = skipReason(result.reason);
              skips.add(reason, record.key, String((result.reason as Error)?.message ?? result.reason));
              if (!this.warned.has(reason)) {
                this.warned.add(reason);
                log.warn(
                  `skipping ${record.key}: ${reason}: ${(result.reason as Error)?.message ?? result.reason} (further ones are counted)`,
                );
              }
            }
          });
        }
        if (stopped) break;
        if (items.length === batchSize || (items.length > 0 && !dropLast)) {
          const ok = await channel.put({ items, keys, epoch, index: index++, position: ordinal, skipped: skips.counts() });
          if (!ok) break;
        } else if (exhausted) {
          // The dropped short batch's records and skips still belong to this epoch.
          await channel.put({ items: [], keys: [], epoch, index: -1, position: ordinal, skipped: skips.counts() });
        }
      }
      channel.close();
    };
    const producer = produce().catch((error) => channel.fail(error));

    let finished = false;
    try {
      for (;;) {
        const batch = await channel.take();
        if (batch === undefined) break;
        this.position = batch.position;
        this.epochSkips = batch.skipped;
        if (batch.index < 0) continue;
        this.batchNo = batch.index + 1;
        this.samplesNo += batch.items.length;
        yield { items: batch.items, keys: batch.keys, epoch: batch.epoch, index: batch.index };
      }
      finished = true;
    } finally {
      stopped = true;
      channel.close();
      await producer;
      await it.return?.(undefined);
      this.active = false;
    }
    if (finished) this.endEpoch();
  }

  private endEpoch(): void {
    const counts = new SkipCounter();
    counts.addCounts(this.epochSkips);
    counts.addCounts(this.readSkips);
    const report: EpochReport = { epoch: this.epochNo, batches: this.batchNo, samples: this.samplesNo, skipped: counts.counts() };
    if (counts.total > 0) log.warn(`epoch ${this.epochNo}: ${counts.toString()}`);
    this.onEpochEnd?.(report);
    this.epochNo++;
    this.position = 0;
    this.batchNo = 0;
    this.samplesNo = 0;
    this.epochSkips = {};
    this.rngState = epochRngState(this.seed, this.epochNo);
  }
}
