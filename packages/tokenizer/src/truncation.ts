import { TesseraError } from '@tessera/base';
import type { Encoding } from './encoding.js';
import { asObject, badField, getDirection, getInt, getString, type JsonObject } from './json.js';

/** Truncation (Hugging Face semantics): keep `maxLength` tokens including special tokens. */
export interface TruncationOptions {
  maxLength: number;
  /** Overlap between overflowing windows. */
  stride?: number;
  /** For pairs: trim the longer input first, or only the first/second input. */
  strategy?: 'longest_first' | 'only_first' | 'only_second';
  /** Cut tokens at the end (right) or the start (left). */
  direction?: 'right' | 'left';
}

const STRATEGY = { LongestFirst: 'longest_first', OnlyFirst: 'only_first', OnlySecond: 'only_second' } as const;

export function truncationFromJSON(value: unknown, path = 'truncation'): Required<TruncationOptions> | null {
  if (value === null || value === undefined) return null;
  const o = asObject(value, path);
  const strategy = getString(o, 'strategy', path, 'LongestFirst');
  if (!(strategy in STRATEGY)) throw badField(`${path}.strategy`, 'must be LongestFirst, OnlyFirst or OnlySecond');
  return {
    maxLength: getInt(o, 'max_length', path),
    stride: getInt(o, 'stride', path, 0),
    strategy: STRATEGY[strategy as keyof typeof STRATEGY],
    direction: getDirection(o, path),
  };
}

export function truncationToJSON(t: Required<TruncationOptions> | null): JsonObject | null {
  if (t === null) return null;
  const strategy = Object.entries(STRATEGY).find(([, v]) => v === t.strategy)![0];
  return { direction: t.direction === 'right' ? 'Right' : 'Left', max_length: t.maxLength, strategy, stride: t.stride };
}

/** Checks truncation options (E_CONFIG naming the bad field) and fills in the defaults. */
export function resolveTruncation(options: TruncationOptions): Required<TruncationOptions> {
  if (!Number.isInteger(options.maxLength) || options.maxLength < 0) {
    throw new TesseraError('E_CONFIG', 'truncation.maxLength must be a non-negative integer.', { details: { field: 'maxLength' } });
  }
  const stride = options.stride ?? 0;
  if (!Number.isInteger(stride) || stride < 0 || (options.maxLength > 0 && stride >= options.maxLength)) {
    throw new TesseraError('E_CONFIG', 'truncation.stride must be an integer in [0, maxLength).', { details: { field: 'stride' } });
  }
  return {
    maxLength: options.maxLength,
    stride,
    strategy: options.strategy ?? 'longest_first',
    direction: options.direction ?? 'right',
  };
}

/** Hugging Face `truncate_encodings`. */
export function truncateEncodings(a: Encoding, b: Encoding | null, t: Required<TruncationOptions>): void {
  if (t.maxLength === 0) {
    a.truncate(0, t.stride, t.direction);
    b?.truncate(0, t.stride, t.direction);
    return;
  }
  const total = a.length + (b?.length ?? 0);
  if (total <= t.maxLength) return;
  const toRemove = total - t.maxLength;
  if (t.strategy === 'longest_first') {
    if (b === null) {
      a.truncate(t.maxLength, t.stride, t.direction);
      return;
    }
    let n1 = a.length;
    let n2 = b.length;
    const swap = n1 > n2;
    if (swap) [n1, n2] = [n2, n1];
    n2 = n1 > t.maxLength ? n1 : Math.max(n1, t.maxLength - n1);
    if (n1 + n2 > t.maxLength) {
      n1 = Math.floor(t.maxLength / 2);
      n2 = n1 + (t.maxLength % 2);
    }
    if (swap) [n1, n2] = [n2, n1];
    a.truncate(n1, t.stride, t.direction);
    b.truncate(n2, t.stride, t.direction);
    return;
  }
  const target = t.strategy === 'only_first' ? a : b;
  if (target === null) {
    throw new TesseraError('E_TRUNCATION', 'Truncation strategy only_second needs a pair of inputs.', { details: { field: 'strategy' } });
  }
  if (target.length <= toRemove) {
    throw new TesseraError(
      'E_TRUNCATION',
      `Cannot truncate: the ${t.strategy === 'only_first' ? 'first' : 'second'} input has ${target.length} tokens, ${toRemove} must go. Use longest_first or a larger maxLength.`,
      { details: { field: 'maxLength' } },
    );
  }
  target.truncate(target.length - toRemove, t.stride, t.direction);
}
