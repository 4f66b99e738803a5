import { asObject, badField, getInt, getString, type JsonObject } from './json.js';

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

/** Padding: to the longest encoding of the batch, or to a fixed `length`. */
export interface PaddingOptions {
  /** Fixed length; omitted: the longest encoding in the batch. */
  length?: number;
  padToMultipleOf?: number;
  direction?: 'right' | 'left';
  padId?: number;
  padTypeId?: number;
  padToken?: string;
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
    direction: direction(o, path),
  };
}

export function truncationToJSON(t: Required<TruncationOptions> | null): JsonObject | null {
  if (t === null) return null;
  const strategy = Object.entries(STRATEGY).find(([, v]) => v === t.strategy)![0];
  return { direction: t.direction === 'right' ? 'Right' : 'Left', max_length: t.maxLength, strategy, stride: t.stride };
}

function direction(o: JsonObject, path: string): 'right' | 'left' {
  const d = getString(o, 'direction', path, 'Right');
  if (d !== 'Right' && d !== 'Left') throw badField(`${path}.direction`, 'must be Right or Left');
  return d === 'Right' ? 'right' : 'left';
}

export type ResolvedPadding = Required<Omit<PaddingOptions, 'length' | 'padToMultipleOf'>> & {
  length: number | null;
  padToMultipleOf: number | null;
};

export function resolvePadding(p: PaddingOptions): ResolvedPadding {
  return {
    length: p.length ?? null,
    padToMultipleOf: p.padToMultipleOf ?? null,
    direction: p.direction ?? 'right',
    padId: p.padId ?? 0,
    padTypeId: p.padTypeId ?? 0,
    padToken: p.padToken ?? '[PAD]',
  };
}

export function paddingFromJSON(value: unknown, path = 'padding'): ResolvedPadding | null {
  if (value === null || value === undefined) return null;
  const o = asObject(value, path);
  let length: number | null = null;
  if (o.strategy !== 'BatchLongest' && o.strategy !== undefined) {
    const s = asObject(o.strategy, `${path}.strategy`);
    length = getInt(s, 'Fixed', `${path}.strategy`);
  }
  const multiple = o.pad_to_multiple_of;
  if (multiple !== null && multiple !== undefined && (!Number.isInteger(multiple) || (multiple as number) < 0)) {
    throw badField(`${path}.pad_to_multiple_of`, 'must be a non-negative integer or null');
  }
  return {
    length,
    padToMultipleOf: (multiple as number | null | undefined) ?? null,
    direction: direction(o, path),
    padId: getInt(o, 'pad_id', path, 0),
    padTypeId: getInt(o, 'pad_type_id', path, 0),
    padToken: getString(o, 'pad_token', path, '[PAD]'),
  };
}

export function paddingToJSON(p: ResolvedPadding | null): JsonObject | null {
  if (p === null) return null;
  return {
    strategy: p.length === null ? 'BatchLongest' : { Fixed: p.length },
    direction: p.direction === 'right' ? 'Right' : 'Left',
    pad_to_multiple_of: p.padToMultipleOf,
    pad_id: p.padId,
    pad_type_id: p.padTypeId,
    pad_token: p.padToken,
  };
}
