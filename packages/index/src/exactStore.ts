import { existsSync } from 'node:fs';
import { TesseraError } from '@tessera/core';
import { checkFilter, checkK, checkModel, checkRecord, closedError, normalizedCopy } from './checks.js';
import { type FlatMeta, readFlatStore, writeFlatStore } from './flatFile.js';
import { Int8Codes } from './int8Codes.js';
import { nativeAddon } from './nativeGemm.js';
import { TopK } from './topK.js';
import { type BatchKernel, VectorMatrix } from './vectorMatrix.js';
import type { SearchFilter, SearchHit, StoredEntry, StoredRecord, StoreInfo, VectorRecord, VectorStore } from './vectorStore.js';

/** Settings of a new `ExactStore`: the model and dimension every vector must match, and an optional file. */
export interface ExactStoreOptions {
  /** The embedding model whose vectors the store holds; calls naming another are E_STORE_MODEL. */
  modelId: string;
  /** Vector dimension, a positive integer; vectors of another length are E_STORE_DIMENSION. */
  dim: number;
  /** File to persist to on `flush`/`close`; omit for a memory-only store. */
  path?: string;
}

/**
 * How `search` scans: 'float32' scores every stored vector exactly; 'int8' first scores int8
 * copies of them (a quarter of the bytes to stream, see Int8Codes), then re-ranks the best
 * `k * rerank` against the float32 vectors, so the hits and scores are float32's whenever the
 * true top k is among those candidates. The file stays float32 either way; the codes are built
 * in memory (1.25x the float32 size in all).
 */
export interface ExactScanOptions {
  /** 'float32' (default) or 'int8'. */
  scan?: 'float32' | 'int8';
  /** Candidates re-ranked per hit wanted under 'int8' (default 10; at least 1). */
  rerank?: number;
}

/**
 * Exact cosine search in memory: vectors live in one contiguous row-major float32 matrix in
 * WebAssembly memory, a query scores every row with a SIMD kernel and keeps the top k in a
 * heap (no full sort). Persisted to one flat file, written atomically. The embedded default
 * for collections up to about a million 512-d vectors.
 */
export class ExactStore implements VectorStore {
  readonly info: StoreInfo;
  /** How `search` scans (see ExactScanOptions); `searchBatch` is always exact float32. */
  readonly scan: 'float32' | 'int8';
  private readonly rerank: number;
  private matrix: VectorMatrix;
  private codes: Int8Codes | null;
  private meta: FlatMeta[] = [];
  private rows = new Map<string, number>();
  private dirty = false;
  private closed = false;

  private constructor(info: StoreInfo, vectors: Float32Array, meta: FlatMeta[], scan: ExactScanOptions) {
    this.info = info;
    this.scan = scan.scan ?? 'float32';
    this.rerank = scan.rerank ?? 10;
    if (this.scan !== 'float32' && this.scan !== 'int8')
      throw new TesseraError('E_INPUT', `scan must be 'float32' or 'int8' (got ${String(this.scan)})`);
    if (!Number.isInteger(this.rerank) || this.rerank < 1)
      throw new TesseraError('E_INPUT', `rerank must be a positive integer (got ${this.rerank})`);
    this.matrix = new VectorMatrix(info.dim);
    this.matrix.reserve(meta.length);
    this.matrix.rows = meta.length;
    this.matrix.values.set(vectors);
    this.codes = this.scan === 'int8' ? new Int8Codes(info.dim) : null;
    if (this.codes !== null) {
      this.codes.reserve(meta.length);
      this.codes.rows = meta.length;
      for (let row = 0; row < meta.length; row++) this.codes.set(row, this.matrix.row(row));
    }
    this.meta = meta;
    meta.forEach((m, row) => {
      this.rows.set(m.id, row);
    });
  }

  /** A new empty store. Refuses to replace an existing file (open it instead). */
  static async create(options: ExactStoreOptions & ExactScanOptions): Promise<ExactStore> {
    const { modelId, dim, path } = options;
    if (typeof modelId !== 'string' || modelId.length === 0) throw new TesseraError('E_INPUT', 'modelId must be a non-empty string');
    if (!Number.isInteger(dim) || dim < 1) throw new TesseraError('E_INPUT', `dim must be a positive integer (got ${dim})`);
    if (path !== undefined && existsSync(path)) {
      throw new TesseraError('E_STORE_EXISTS', `${path} already exists: open it with ExactStore.open or openStore, or delete it first`, {
        details: { path },
      });
    }
    const store = new ExactStore({ kind: 'exact', modelId, dim, path }, new Float32Array(0), [], options);
    store.dirty = path !== undefined;
    return store;
  }

  /** Opens a store file written by `flush`, validating it (E_STORE_CORRUPT names the file). */
  static async open(path: string, scan: ExactScanOptions = {}): Promise<ExactStore> {
    const data = await readFlatStore(path);
    return new ExactStore({ kind: 'exact', modelId: data.modelId, dim: data.dim, path }, data.vectors, data.meta, scan);
  }

  async upsert(modelId: string, records: readonly VectorRecord[]): Promise<void> {
    this.assertOpen();
    checkModel(this.info, modelId);
    // Validate everything first so a bad record leaves the store unchanged.
    const vectors = records.map((record) => checkRecord(this.info, record));
    this.matrix.reserve(this.meta.length + records.length);
    this.codes?.reserve(this.meta.length + records.length);
    records.forEach((record, i) => {
      let row = this.rows.get(record.id);
      if (row === undefined) {
        row = this.meta.length;
        this.matrix.rows = row + 1;
        if (this.codes !== null) this.codes.rows = row + 1;
        this.rows.set(record.id, row);
        this.meta.push({ id: record.id, path: record.path });
      }
      this.matrix.row(row).set(vectors[i]);
      this.codes?.set(row, vectors[i]);
      this.meta[row] = metaOf(record);
    });
    if (records.length > 0) this.dirty = true;
  }

  async delete(ids: readonly string[]): Promise<number> {
    this.assertOpen();
    const { dim } = this.info;
    let removed = 0;
    for (const id of ids) {
      const row = this.rows.get(id);
      if (row === undefined) continue;
      // Move the last row into the hole so the matrix stays contiguous.
      const last = this.meta.length - 1;
      if (row !== last) {
        this.matrix.values.copyWithin(row * dim, last * dim, (last + 1) * dim);
        this.codes?.move(last, row);
        this.meta[row] = this.meta[last];
        this.rows.set(this.meta[row].id, row);
      }
      this.meta.pop();
      this.matrix.rows = last;
      if (this.codes !== null) this.codes.rows = last;
      this.rows.delete(id);
      removed++;
    }
    if (removed > 0) this.dirty = true;
    return removed;
  }

  /** The record with this id and a copy of its unit-length vector, or undefined; a lookup in memory. */
  async get(id: string): Promise<StoredRecord | undefined> {
    this.assertOpen();
    const row = this.rows.get(id);
    if (row === undefined) return undefined;
    return { ...this.meta[row], vector: this.matrix.row(row).slice() };
  }

  /** Whether a record with this id is stored (in memory, no I/O). */
  async has(id: string): Promise<boolean> {
    this.assertOpen();
    return this.rows.has(id);
  }

  /** Number of records held, including changes not yet flushed to the file. */
  async count(): Promise<number> {
    this.assertOpen();
    return this.meta.length;
  }

  async search(modelId: string, query: Float32Array, k: number, filter?: SearchFilter): Promise<SearchHit[]> {
    this.assertOpen();
    checkModel(this.info, modelId);
    checkK(k);
    checkFilter(filter);
    const q = normalizedCopy(this.info, query, 'query');
    return this.hits(this.scanRows(q, k, filter?.pathPrefix));
  }

  /**
   * `search` for many queries at once (result i answers queries[i]): every block of stored rows
   * is scored against all queries in one matrix product on the native addon (BLAS, at the
   * threads `initBackend` set) and merged into each query's top k, so the rows stream from
   * memory once per batch instead of once per query. `kernel` forces a scoring path (see
   * BatchKernel); scores agree with `search` to float32 rounding.
   */
  async searchBatch(
    modelId: string,
    queries: readonly Float32Array[],
    k: number,
    filter?: SearchFilter,
    kernel: BatchKernel = 'auto',
  ): Promise<SearchHit[][]> {
    this.assertOpen();
    checkModel(this.info, modelId);
    checkK(k);
    checkFilter(filter);
    const qs = queries.map((query, i) => normalizedCopy(this.info, query, `queries[${i}]`));
    const addon = kernel === 'dots' ? null : await nativeAddon();
    this.assertOpen(); // the store may have closed while the addon loaded
    const pathPrefix = filter?.pathPrefix;
    const tops = qs.map(() => new TopK(Math.min(k, Math.max(this.meta.length, 1))));
    this.matrix.scoreBlocks(qs, addon, kernel, (scores, start, count) => {
      tops.forEach((top, i) => {
        const base = i * count;
        let threshold = top.threshold;
        for (let r = 0; r < count; r++) {
          const score = scores[base + r];
          const row = start + r;
          if (score > threshold && (pathPrefix === undefined || this.meta[row].path.startsWith(pathPrefix))) {
            top.push(score, row);
            threshold = top.threshold;
          }
        }
      });
    });
    return tops.map((top) => this.hits(top));
  }

  async entries(): Promise<StoredEntry[]> {
    this.assertOpen();
    return this.meta.map(({ id, path, mtime, hash }) => ({
      id,
      path,
      ...(mtime === undefined ? {} : { mtime }),
      ...(hash === undefined ? {} : { hash }),
    }));
  }

  async flush(): Promise<void> {
    this.assertOpen();
    if (!this.dirty || this.info.path === undefined) return;
    const count = this.meta.length;
    await writeFlatStore(this.info.path, {
      modelId: this.info.modelId,
      dim: this.info.dim,
      count,
      vectors: this.matrix.values,
      meta: this.meta,
    });
    this.dirty = false;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    this.matrix = new VectorMatrix(1);
    this.codes = null;
    this.meta = [];
    this.rows.clear();
  }

  /** Scores every row (SIMD kernel), then keeps the best k that pass the filter; under 'int8', re-ranks the best candidates in float32. */
  private scanRows(q: Float32Array, k: number, pathPrefix: string | undefined): TopK {
    if (this.codes === null) return this.best(this.matrix.scores(q), k, pathPrefix);
    const candidates = this.best(this.codes.scores(q), k * this.rerank, pathPrefix);
    const rows = candidates.indices.subarray(0, candidates.size);
    const exact = new Float64Array(rows.length);
    // The float32 kernel of the full scan, so the scores are exactly the float32 path's.
    this.matrix.scoreRows(q, rows, exact);
    const top = new TopK(Math.min(k, Math.max(rows.length, 1)));
    for (let i = 0; i < rows.length; i++) top.push(exact[i] as number, rows[i] as number);
    return top;
  }

  private best(scores: Float32Array, k: number, pathPrefix: string | undefined): TopK {
    const top = new TopK(Math.min(k, Math.max(scores.length, 1)));
    // The threshold in a local: reading the getter per row cost 40 % of this loop.
    let threshold = top.threshold;
    for (let row = 0; row < scores.length; row++) {
      const score = scores[row];
      // The filter is checked only for rows good enough to enter the top k.
      if (score > threshold && (pathPrefix === undefined || this.meta[row].path.startsWith(pathPrefix))) {
        top.push(score, row);
        threshold = top.threshold;
      }
    }
    return top;
  }

  private hits(top: TopK): SearchHit[] {
    return top.sorted().map(({ index, score }) => {
      const m = this.meta[index];
      return m.caption === undefined ? { id: m.id, score, path: m.path } : { id: m.id, score, path: m.path, caption: m.caption };
    });
  }

  private assertOpen(): void {
    if (this.closed) throw closedError(this.info);
  }
}

function metaOf(record: VectorRecord): FlatMeta {
  const meta: FlatMeta = { id: record.id, path: record.path };
  if (record.caption !== undefined) meta.caption = record.caption;
  if (record.mtime !== undefined) meta.mtime = record.mtime;
  if (record.hash !== undefined) meta.hash = record.hash;
  return meta;
}
