import type { Encoding } from './encoding.js';
import { asObject, badField, getDirection, getInt, getString, type JsonObject } from './json.js';

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
    direction: getDirection(o, path),
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

/** Hugging Face `pad_encodings`. */
export function padEncodings(encodings: Encoding[], p: ResolvedPadding): void {
  let length = p.length ?? encodings.reduce((m, e) => Math.max(m, e.length), 0);
  if (p.padToMultipleOf !== null && p.padToMultipleOf > 0 && length % p.padToMultipleOf > 0)
    length += p.padToMultipleOf - (length % p.padToMultipleOf);
  for (const e of encodings) e.pad(length, p.padId, p.padTypeId, p.padToken, p.direction);
}
