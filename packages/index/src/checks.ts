import { TesseraError } from '@tessera/core';
import type { SearchFilter, StoreInfo, VectorRecord } from './vectorStore.js';

/** Refuses vectors made by another model than the one the store was created for. */
export function checkModel(info: StoreInfo, modelId: string): void {
  if (modelId !== info.modelId) {
    throw new TesseraError(
      'E_STORE_MODEL',
      `store ${info.path ?? '(memory)'} holds vectors of model "${info.modelId}", not "${modelId}": embed with "${info.modelId}" or build a new store for "${modelId}"`,
      { details: { path: info.path, storeModelId: info.modelId, modelId } },
    );
  }
}

/** Checks dimension and finiteness and returns a unit-length copy of `vector`. */
export function normalizedCopy(info: StoreInfo, vector: Float32Array, what: string): Float32Array {
  if (!(vector instanceof Float32Array)) {
    throw new TesseraError('E_INPUT', `${what}: expected a Float32Array vector`);
  }
  if (vector.length !== info.dim) {
    throw new TesseraError(
      'E_STORE_DIMENSION',
      `${what}: vector has ${vector.length} dimensions but store ${info.path ?? '(memory)'} (model "${info.modelId}") holds ${info.dim}`,
      { details: { path: info.path, dim: info.dim, got: vector.length } },
    );
  }
  let sum = 0;
  for (let i = 0; i < vector.length; i++) sum += vector[i] * vector[i];
  if (!Number.isFinite(sum) || sum === 0) {
    throw new TesseraError('E_INPUT', `${what}: vector must be finite and non-zero (got norm² ${sum})`);
  }
  const inv = 1 / Math.sqrt(sum);
  const out = new Float32Array(vector.length);
  for (let i = 0; i < vector.length; i++) out[i] = vector[i] * inv;
  return out;
}

export function checkRecord(info: StoreInfo, record: VectorRecord): Float32Array {
  if (typeof record?.id !== 'string' || record.id.length === 0) throw new TesseraError('E_INPUT', 'record id must be a non-empty string');
  if (typeof record.path !== 'string') throw new TesseraError('E_INPUT', `record "${record.id}": path must be a string`);
  if (record.caption !== undefined && typeof record.caption !== 'string') {
    throw new TesseraError('E_INPUT', `record "${record.id}": caption must be a string`);
  }
  if (record.mtime !== undefined && !Number.isFinite(record.mtime))
    throw new TesseraError('E_INPUT', `record "${record.id}": mtime must be a number`);
  if (record.hash !== undefined && typeof record.hash !== 'string')
    throw new TesseraError('E_INPUT', `record "${record.id}": hash must be a string`);
  return normalizedCopy(info, record.vector, `record "${record.id}"`);
}

export function checkK(k: number): void {
  if (!Number.isInteger(k) || k < 1) throw new TesseraError('E_INPUT', `k must be a positive integer (got ${k})`);
}

export function checkFilter(filter: SearchFilter | undefined): void {
  if (filter?.pathPrefix !== undefined && typeof filter.pathPrefix !== 'string') {
    throw new TesseraError('E_INPUT', 'filter.pathPrefix must be a string');
  }
}

export function closedError(info: StoreInfo): TesseraError {
  return new TesseraError('E_STORE_CLOSED', `store ${info.path ?? '(memory)'} is closed: open it again`);
}
