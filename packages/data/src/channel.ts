/**
 * A bounded single-producer single-consumer queue: `put` waits while `capacity` items are
 * waiting, `take` waits for an item. Closing lets the consumer drain what is left;
 * `fail` hands the producer's error to the consumer.
 */
export class Channel<T> {
  private readonly items: T[] = [];
  private closed = false;
  private failure: { error: unknown } | null = null;
  private wakeTaker: (() => void) | null = null;
  private wakePutter: (() => void) | null = null;

  constructor(private readonly capacity: number) {}

  /** False when the channel was closed (the consumer went away): stop producing. */
  async put(item: T): Promise<boolean> {
    while (this.items.length >= this.capacity && !this.closed) await new Promise<void>((r) => (this.wakePutter = r));
    if (this.closed) return false;
    this.items.push(item);
    this.wake();
    return true;
  }

  /** The next item, or undefined once closed and drained. */
  async take(): Promise<T | undefined> {
    while (this.items.length === 0 && !this.closed && this.failure === null) await new Promise<void>((r) => (this.wakeTaker = r));
    if (this.items.length > 0) {
      const item = this.items.shift() as T;
      this.wake();
      return item;
    }
    if (this.failure !== null) throw this.failure.error;
    return undefined;
  }

  close(): void {
    this.closed = true;
    this.wake();
  }

  fail(error: unknown): void {
    this.failure = { error };
    this.wake();
  }

  private wake(): void {
    const t = this.wakeTaker;
    const p = this.wakePutter;
    this.wakeTaker = null;
    this.wakePutter = null;
    t?.();
    p?.();
  }
}
