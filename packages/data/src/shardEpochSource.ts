import { parseConfig, SeededRandom, TesseraError, tf } from '@tessera/core';
import { z } from 'zod';
import type { BatchBuilder, EpochPosition } from './epochSource.js';
import type { DataRecord } from './record.js';
import { readShard } from './shards.js';
import { SkipCounter, SkipSample } from './skipCounter.js';

/** Checks the settings of a `ShardEpochSource`: batch size, seed, shuffling, and batches kept alive. */
export const shardEpochSourceOptionsSchema = z
  .object({
    batchSize: z.number().int().positive(),
    seed: z.number().int().default(0),
    /** Shuffle the shard order each epoch and the samples through the buffer (false: shards and samples in order). */
    shuffle: z.boolean().default(true),
    /** Samples held to shuffle from (webdataset's `shuffle(n)`): memory is bounded by it, not by the dataset. */
    shuffleBuffer: z.number().int().positive().default(1000),
    /** Batches kept alive after being handed out; set it to the trainer's gradient accumulation. */
    keepAlive: z.number().int().positive().default(1),
  })
  .strict();
/** The plain settings of a `ShardEpochSource`, as a config file gives them. */
export type ShardEpochSourceSettings = z.input<typeof shardEpochSourceOptionsSchema>;

/** A `ShardEpochSource`'s settings plus its shards and how a record becomes a sample and samples a batch. */
export interface ShardEpochSourceOptions<B, T> extends ShardEpochSourceSettings {
  /** The shards this process reads (after `splitShards` for its rank). */
  shards: readonly string[];
  /** Turns a record drawn from the buffer into a sample (decode, tokenize); throw SkipSample to skip it, counted. */
  prepare: (record: DataRecord) => T | Promise<T>;
  build: BatchBuilder<T, B>;
}

/** Records through a buffer of `size`: each new record replaces a random buffered one, which is emitted. */
async function* shuffleBuffer<R>(records: AsyncIterable<R>, size: number, rng: SeededRandom, onSize: (n: number) => void) {
  const buffer: R[] = [];
  for await (const record of records) {
    if (buffer.length < size) {
      buffer.push(record);
      onSize(buffer.length);
      continue;
    }
    const k = rng.int(size);
    const out = buffer[k] as R;
    buffer[k] = record;
    yield out;
  }
  while (buffer.length > 0) {
    const k = rng.int(buffer.length);
    const out = buffer[k] as R;
    buffer[k] = buffer[buffer.length - 1] as R;
    buffer.pop();
    yield out;
  }
}

/**
 * Batches streamed from WebDataset shards, epoch after epoch, as webdataset's
 * `shardshuffle` + `shuffle(n)`: epoch `e` reads the shards in the order
 * `new SeededRandom(seed).fork('shards-e').permutation(shards)` and draws samples through a
 * shuffle buffer of `shuffleBuffer` records keyed `buffer-e`, so at most that many records
 * (encoded bytes) are held, and a sample is prepared (decoded) only when drawn. The order
 * depends only on seed, epoch and the shards' content, so the state `{ epoch, position }`
 * (records drawn this epoch) is exact: `restore` replays the epoch's stream and skips
 * `position` records without preparing them. The short last batch is dropped (`next()` gives
 * null at the epoch's end). Broken shards and skipped samples are counted per epoch.
 * Structurally a `BatchSource` of @tessera/train.
 */
export class ShardEpochSource<B, T> {
  private readonly settings: z.output<typeof shardEpochSourceOptionsSchema>;
  private readonly shards: readonly string[];
  private readonly prepare: ShardEpochSourceOptions<B, T>['prepare'];
  private readonly build: BatchBuilder<T, B>;
  private at: EpochPosition = { epoch: 0, position: 0 };
  private stream: { epoch: number; position: number; records: AsyncGenerator<DataRecord> } | null = null;
  private reading = new SkipCounter();
  private finished: { skipped: SkipCounter; samples: number } | null = null;
  private used = 0;
  private issued: B[] = [];
  private peak = 0;

  constructor(options: ShardEpochSourceOptions<B, T>) {
    const { shards, prepare, build, ...settings } = options;
    this.settings = parseConfig(shardEpochSourceOptionsSchema, settings, 'shard epoch source options');
    if (shards.length === 0) throw new TesseraError('E_CONFIG', 'ShardEpochSource: no shards to read');
    this.shards = shards;
    this.prepare = prepare;
    this.build = build;
  }

  /** The most records the shuffle buffer has held at once (at most `shuffleBuffer`). */
  get peakBuffered(): number {
    return this.peak;
  }

  /** This epoch's shard order. */
  shardOrder(epoch: number): string[] {
    if (!this.settings.shuffle) return [...this.shards];
    return new SeededRandom(this.settings.seed)
      .fork(`shards-${epoch}`)
      .permutation(this.shards.length)
      .map((i) => this.shards[i] as string);
  }

  /** Where the stream is: the epoch and the records drawn in it; a checkpoint stores this. */
  state(): EpochPosition {
    return { ...this.at };
  }

  /** Continues from a `state()`: the next batch is the one that would have followed it. */
  restore(state: unknown): void {
    const s = state as EpochPosition | null;
    if (!s || !Number.isInteger(s.epoch) || !Number.isInteger(s.position) || s.epoch < 0 || s.position < 0)
      throw new TesseraError(
        'E_INPUT',
        'ShardEpochSource.restore: not a state from state() ({ epoch, position }); resume from a checkpoint of this run',
      );
    this.at = { epoch: s.epoch, position: s.position };
    void this.close();
  }

  /** Skips and usable samples of the last finished epoch (of the current one before any finished). */
  stats(): { samples: number; skipped: SkipCounter } {
    return this.finished ?? { samples: this.used, skipped: this.reading };
  }

  private async *records(epoch: number, skips: SkipCounter): AsyncGenerator<DataRecord> {
    for (const shard of this.shardOrder(epoch)) yield* readShard(shard, skips);
  }

  /** Opens the stream of epoch `at.epoch` and skips the records drawn before `at.position`. */
  private async open(): Promise<NonNullable<ShardEpochSource<B, T>['stream']>> {
    await this.close();
    const { epoch, position } = this.at;
    const { shuffle, seed } = this.settings;
    this.reading = new SkipCounter();
    this.used = 0;
    const raw = this.records(epoch, this.reading);
    const size = shuffle ? this.settings.shuffleBuffer : 1;
    const rng = new SeededRandom(seed).fork(`buffer-${epoch}`);
    const records = shuffleBuffer(raw, size, rng, (n) => {
      this.peak = Math.max(this.peak, n);
    });
    for (let i = 0; i < position; i++) if ((await records.next()).done) break;
    this.stream = { epoch, position, records };
    return this.stream;
  }

  private async close(): Promise<void> {
    const open = this.stream;
    this.stream = null;
    await open?.records.return(undefined);
  }

  /** The next batch of this epoch, or null at its end (the source then moves to the next epoch). */
  async next(): Promise<B | null> {
    const { batchSize, keepAlive } = this.settings;
    while (this.issued.length >= keepAlive) tf.dispose(this.issued.shift() as tf.TensorContainer);
    const { epoch, position: start } = this.at;
    const stream = this.stream?.epoch === epoch && this.stream.position === start ? this.stream : await this.open();
    const samples: T[] = [];
    let position = start;
    while (samples.length < batchSize) {
      const drawn = await stream.records.next();
      if (drawn.done) {
        this.finished = { skipped: this.reading, samples: this.used };
        this.at = { epoch: epoch + 1, position: 0 };
        await this.close();
        return null;
      }
      position++;
      try {
        samples.push(await this.prepare(drawn.value));
      } catch (error) {
        if (!(error instanceof SkipSample)) throw error;
        this.reading.add(error.reason, drawn.value.key, error.message);
      }
    }
    const batch = await this.build(samples, { epoch, position: start });
    this.used += samples.length;
    this.at = { epoch, position };
    stream.position = position;
    this.issued.push(batch);
    return batch;
  }

  /** Frees the batches still held and closes the open shard. */
  dispose(): void {
    tf.dispose(this.issued as tf.TensorContainer);
    this.issued = [];
    void this.close();
  }
}
