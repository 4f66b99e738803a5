import type { SeededRandom } from '@tessera/core';

/**
 * WebDataset-style shuffle buffer: keeps `size` items, and for each new item emits a
 * uniformly chosen buffered one and puts the new one in its place; drains in random
 * order at the end. Memory is bounded by `size`; `size <= 1` keeps the input order.
 * An item can leave at most `size - 1` places earlier than it came in.
 */
export async function* shuffleBuffer<T>(items: AsyncIterable<T>, size: number, rng: SeededRandom): AsyncGenerator<T> {
  if (size <= 1) {
    yield* items;
    return;
  }
  const buffer: T[] = [];
  for await (const item of items) {
    if (buffer.length < size) {
      buffer.push(item);
      continue;
    }
    const j = rng.int(size);
    const out = buffer[j] as T;
    buffer[j] = item;
    yield out;
  }
  rng.shuffle(buffer);
  yield* buffer;
}
