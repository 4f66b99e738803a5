import { readFile } from 'node:fs/promises';
import { TesseraError, writeFileAtomic } from '@tessera/core';

/**
 * The exact store's file: a 32-byte header, the vectors as one little-endian float32 matrix
 * (row-major, count x dim, 32-byte aligned so it can be viewed in place), then UTF-8 JSON
 * metadata. The file size must match the header exactly, so truncation is always detected.
 *
 *   0  magic "TSVSTORE"   8  u32 version   12 u32 dim   16 u32 count   20 u32 0
 *   24 u64 JSON byte length
 */
export const FLAT_MAGIC = 'TSVSTORE';
/** Format version in the header of exact-store files; `parseFlatStore` refuses any other as E_STORE_CORRUPT. */
export const FLAT_VERSION = 1;
const HEADER_BYTES = 32;

export interface FlatMeta {
  id: string;
  path: string;
  caption?: string;
  mtime?: number;
  hash?: string;
}

export interface FlatStoreData {
  modelId: string;
  dim: number;
  count: number;
  /** count x dim, row-major. */
  vectors: Float32Array;
  meta: FlatMeta[];
}

/**
 * Encodes store data as one exact-store file (layout at FLAT_MAGIC), the inverse of `parseFlatStore`.
 * Nothing is validated: give `count` records in `meta` and `count * dim` values in `vectors`.
 */
export function serializeFlatStore(data: FlatStoreData): Uint8Array {
  // Refuse what parseFlatStore would call corrupt, so no unreadable file is ever written.
  const { dim, count } = data;
  if (!Number.isInteger(dim) || dim < 1 || dim > 0xffffffff)
    throw new TesseraError('E_INPUT', `dim must be a positive integer (got ${dim})`);
  if (!Number.isInteger(count) || count < 0 || count > 0xffffffff)
    throw new TesseraError('E_INPUT', `count must be a non-negative integer (got ${count})`);
  if (data.vectors.length < count * dim)
    throw new TesseraError('E_INPUT', `vectors hold ${data.vectors.length} values, fewer than count x dim = ${count * dim}`);
  if (data.meta.length !== count) throw new TesseraError('E_INPUT', `meta has ${data.meta.length} records for count ${count}`);
  const json = new TextEncoder().encode(JSON.stringify({ modelId: data.modelId, records: data.meta }));
  const vectorBytes = data.count * data.dim * 4;
  const out = new Uint8Array(HEADER_BYTES + vectorBytes + json.byteLength);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode(FLAT_MAGIC), 0);
  view.setUint32(8, FLAT_VERSION, true);
  view.setUint32(12, data.dim, true);
  view.setUint32(16, data.count, true);
  view.setBigUint64(24, BigInt(json.byteLength), true);
  out.set(new Uint8Array(data.vectors.buffer, data.vectors.byteOffset, vectorBytes), HEADER_BYTES);
  out.set(json, HEADER_BYTES + vectorBytes);
  return out;
}

/** True when `bytes` starts like an exact-store file (used by openStore to pick a store). */
export function hasFlatMagic(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 8 && new TextDecoder().decode(bytes.subarray(0, 8)) === FLAT_MAGIC;
}

/** Parses and validates a store file; any inconsistency is E_STORE_CORRUPT naming `file`. */
export function parseFlatStore(bytes: Uint8Array, file: string): FlatStoreData {
  const corrupt = (why: string) =>
    new TesseraError('E_STORE_CORRUPT', `vector store file ${file} is corrupt (${why}): rebuild it with \`tessera index\``, {
      details: { path: file },
    });
  if (bytes.byteLength < HEADER_BYTES || !hasFlatMagic(bytes)) throw corrupt('not a Tessera vector store file or truncated header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== FLAT_VERSION) throw corrupt(`unsupported version ${version}, expected ${FLAT_VERSION}`);
  const dim = view.getUint32(12, true);
  const count = view.getUint32(16, true);
  const jsonBytes = Number(view.getBigUint64(24, true));
  if (dim === 0) throw corrupt('dimension 0');
  const vectorBytes = count * dim * 4;
  const expected = HEADER_BYTES + vectorBytes + jsonBytes;
  if (bytes.byteLength !== expected) throw corrupt(`size ${bytes.byteLength} bytes, header says ${expected}: truncated or overwritten`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(HEADER_BYTES + vectorBytes)));
  } catch (error) {
    throw corrupt(`metadata is not valid JSON: ${(error as Error).message}`);
  }
  const { modelId, records } = (parsed ?? {}) as { modelId?: unknown; records?: unknown };
  if (typeof modelId !== 'string' || modelId.length === 0) throw corrupt('metadata has no modelId');
  if (!Array.isArray(records) || records.length !== count)
    throw corrupt(`metadata lists ${Array.isArray(records) ? records.length : 'no'} records, header says ${count}`);
  const seen = new Set<string>();
  for (const record of records as FlatMeta[]) {
    if (typeof record?.id !== 'string' || typeof record.path !== 'string') throw corrupt('a record lacks a string id or path');
    if (seen.has(record.id)) throw corrupt(`duplicate id "${record.id}"`);
    seen.add(record.id);
  }
  // Copy into a fresh aligned buffer: the file's bytes may sit at any offset of a pooled Buffer.
  const vectors = new Float32Array(count * dim);
  new Uint8Array(vectors.buffer).set(bytes.subarray(HEADER_BYTES, HEADER_BYTES + vectorBytes));
  for (let i = 0; i < vectors.length; i++) {
    if (!Number.isFinite(vectors[i])) throw corrupt(`vector ${Math.floor(i / dim)} holds a non-finite value`);
  }
  return { modelId, dim, count, vectors, meta: records as FlatMeta[] };
}

export async function readFlatStore(file: string): Promise<FlatStoreData> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new TesseraError('E_IO', `cannot read vector store file ${file}: ${(error as Error).message}`, {
      details: { path: file },
      cause: error,
    });
  }
  return parseFlatStore(bytes, file);
}

export async function writeFlatStore(file: string, data: FlatStoreData): Promise<void> {
  await writeFileAtomic(file, serializeFlatStore(data));
}
