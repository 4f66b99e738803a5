/**
 * Bad records never stop a long job: they are skipped and counted here by a stable reason
 * string, and the counts are reported at the end of an epoch and in the metrics log.
 */

/** Stable skip reasons raised by this package (callers may add their own). */
export type SkipReason =
  | 'malformed_line'
  | 'missing_image_path'
  | 'empty_caption'
  | 'missing_image'
  | 'incomplete_sample'
  | 'malformed_json'
  | 'truncated_shard'
  | 'corrupt_shard'
  | 'missing_shard'
  | 'unreadable_shard'
  | (string & {});

/** Thrown (by `loadImageBytes`, or a caller's code) to skip one sample with a given reason. */
export class SkipSample extends Error {
  readonly reason: SkipReason;
  constructor(reason: SkipReason, message?: string) {
    super(message ?? reason);
    this.name = 'SkipSample';
    this.reason = reason;
  }
}

/** One skipped record kept as an example by a `SkipCounter`. */
export interface SkipExample {
  reason: SkipReason;
  /** Where: `file:line` for manifests, `shard#key` for shards. */
  where: string;
  /** What was wrong, when the reason alone does not say. */
  message?: string;
}

/**
 * Counts skipped records by reason and keeps the first `maxExamples` (default 10) as examples;
 * `toString()` summarises the counts for logs.
 */
export class SkipCounter {
  private readonly byReason = new Map<string, number>();
  private readonly kept: SkipExample[] = [];
  constructor(private readonly maxExamples = 10) {}

  /** Counts one skipped record; `where` locates it (`file:line`, `shard#key`) for the examples. */
  add(reason: SkipReason, where = '', message?: string): void {
    this.byReason.set(reason, (this.byReason.get(reason) ?? 0) + 1);
    if (this.kept.length < this.maxExamples) this.kept.push(message === undefined ? { reason, where } : { reason, where, message });
  }

  get total(): number {
    let sum = 0;
    for (const n of this.byReason.values()) sum += n;
    return sum;
  }

  /** Counts by reason, sorted by reason name (stable for logs and checkpoints). */
  counts(): Record<string, number> {
    return Object.fromEntries([...this.byReason.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  /** The first few skipped records, to show the user where to look. */
  examples(): readonly SkipExample[] {
    return this.kept;
  }

  /** Adds counts (e.g. restored from a checkpoint or from another counter). */
  addCounts(counts: Readonly<Record<string, number>>): void {
    for (const [reason, n] of Object.entries(counts)) this.byReason.set(reason, (this.byReason.get(reason) ?? 0) + n);
  }

  /** Clears every count and example (e.g. to count the next epoch on its own). */
  reset(): void {
    this.byReason.clear();
    this.kept.length = 0;
  }

  /** `3 skipped (2 malformed_line, 1 empty_caption)` or `0 skipped`. */
  toString(): string {
    const parts = Object.entries(this.counts()).map(([reason, n]) => `${n} ${reason}`);
    return parts.length === 0 ? '0 skipped' : `${this.total} skipped (${parts.join(', ')})`;
  }
}
