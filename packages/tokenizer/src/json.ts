import { TesseraError } from '@tessera/base';

/** A JSON object read from tokenizer.json; `path` names it in errors (`model.vocab`). */
export type JsonObject = Record<string, unknown>;

export function badField(path: string, problem: string): TesseraError {
  return new TesseraError('E_TOKENIZER_JSON', `Invalid tokenizer.json: ${path} ${problem}. Fix or regenerate the file.`, {
    details: { field: path },
  });
}

export function asObject(value: unknown, path: string): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badField(path, 'must be an object');
  return value as JsonObject;
}

export function getString(obj: JsonObject, key: string, path: string, fallback?: string): string {
  const v = obj[key];
  if (v === undefined || (v === null && fallback !== undefined)) {
    if (fallback !== undefined) return fallback;
    throw badField(`${path}.${key}`, 'is missing');
  }
  if (typeof v !== 'string') throw badField(`${path}.${key}`, 'must be a string');
  return v;
}

export function getOptString(obj: JsonObject, key: string, path: string): string | null {
  const v = obj[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw badField(`${path}.${key}`, 'must be a string or null');
  return v;
}

export function getBool(obj: JsonObject, key: string, path: string, fallback: boolean): boolean {
  const v = obj[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') throw badField(`${path}.${key}`, 'must be a boolean');
  return v;
}

export function getOptBool(obj: JsonObject, key: string, path: string): boolean | null {
  const v = obj[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'boolean') throw badField(`${path}.${key}`, 'must be a boolean or null');
  return v;
}

export function getInt(obj: JsonObject, key: string, path: string, fallback?: number): number {
  const v = obj[key];
  if (v === undefined || v === null) {
    if (fallback !== undefined) return fallback;
    throw badField(`${path}.${key}`, 'is missing');
  }
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw badField(`${path}.${key}`, 'must be a non-negative integer');
  return v;
}

export function getArray(obj: JsonObject, key: string, path: string): unknown[] {
  const v = obj[key];
  if (!Array.isArray(v)) throw badField(`${path}.${key}`, v === undefined ? 'is missing' : 'must be an array');
  return v;
}

export function getType(obj: JsonObject, path: string): string {
  return getString(obj, 'type', path);
}

export function unknownType(path: string, type: string, known: string[]): TesseraError {
  return badField(`${path}.type`, `is "${type}", which is not supported (supported: ${known.join(', ')})`);
}

/** A `direction` field: "Right" (default) or "Left". */
export function getDirection(o: JsonObject, path: string): 'right' | 'left' {
  const d = getString(o, 'direction', path, 'Right');
  if (d !== 'Right' && d !== 'Left') throw badField(`${path}.direction`, 'must be Right or Left');
  return d === 'Right' ? 'right' : 'left';
}
