import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as lancedb from '@lancedb/lancedb';
import { isTesseraError, parseConfig, TesseraError, writeFileAtomic } from '@tessera/core';
import { z } from 'zod';
import { checkFilter, checkK, checkModel, checkRecord, closedError, normalizedCopy } from './checks.js';
import { retryConflicts } from './retryConflicts.js';
import type { SearchFilter, SearchHit, StoredEntry, StoredRecord, StoreInfo, VectorRecord, VectorStore } from './vectorStore.js';

// LanceDB checks `instanceof` against the CommonJS build of apache-arrow; importing the ESM
// build would give look-alike classes it rejects (and silently writes no rows).
const arrow: typeof import('apache-arrow') = createRequire(import.meta.url)('apache-arrow');

/** The file beside the Lance table that marks a directory as a Tessera store. */
export const LANCE_MANIFEST = 'tessera-store.json';
/** The Lance table inside the store directory (`<dir>/vectors.lance`). */
export const LANCE_TABLE = 'vectors';
/** Rows per Arrow batch when writing: bounds the memory of one write. */
const WRITE_CHUNK = 65_536;
/**
 * Stored vectors are unit length, so cosine distance is 1 - inner product. (LanceDB 0.31.0's
 * HNSW index returns wrong neighbours with "dot": recall@10 0.01 on random data, against 0.97
 * with "cosine" or "l2".)
 */
const DISTANCE = 'cosine' as const;

/** ANN index settings; `nprobes` and `refineFactor` are query-time and can be changed later. */
export const LanceIndexSchema = z
  .object({
    type: z.enum(['ivf_flat', 'ivf_pq', 'ivf_hnsw_sq']).default('ivf_pq'),
    /** IVF cells; default about sqrt(rows). */
    numPartitions: z.number().int().positive().optional(),
    /** PQ sub-vectors (ivf_pq); default dim / 8. */
    numSubVectors: z.number().int().positive().optional(),
    /** k-means iterations when training the IVF cells. */
    maxIterations: z.number().int().positive().default(20),
    /** Training rows per cell. */
    sampleRate: z.number().int().positive().default(64),
    /** HNSW graph degree and build beam (ivf_hnsw_sq; defaults 20 and 150). */
    m: z.number().int().positive().optional(),
    efConstruction: z.number().int().positive().optional(),
    /** Cells probed per query. */
    nprobes: z.number().int().positive().default(20),
    /** Candidates re-ranked with exact distances = refineFactor * k (ivf_pq, default 10; 0 = off). */
    refineFactor: z.number().int().nonnegative().optional(),
    /** HNSW search beam (ivf_hnsw_sq); default 4k when unset. */
    ef: z.number().int().positive().optional(),
  })
  .strict();
/**
 * ANN index settings for `LanceStore.buildIndex`: the index kind (`ivf_flat`, `ivf_pq`, the
 * default, or `ivf_hnsw_sq`) with its build and query-time parameters; unset fields take the
 * defaults of LanceIndexSchema or are derived from the row count and dimension.
 */
export type LanceIndexOptions = z.input<typeof LanceIndexSchema>;
type LanceIndexConfig = z.infer<typeof LanceIndexSchema>;

const ManifestSchema = z
  .object({
    format: z.literal('tessera-lance-store'),
    version: z.literal(1),
    modelId: z.string().min(1),
    dim: z.number().int().positive(),
    index: LanceIndexSchema.nullable(),
  })
  .strict();
type Manifest = z.infer<typeof ManifestSchema>;

/** Settings of a new `LanceStore`: its directory and the model and dimension every vector must match. */
export interface LanceStoreOptions {
  /** Directory of the store (created). */
  path: string;
  /** The embedding model whose vectors the store holds; calls naming another are E_STORE_MODEL. */
  modelId: string;
  /** Vector dimension, a positive integer; vectors of another length are E_STORE_DIMENSION. */
  dim: number;
}

/**
 * A store on disk in LanceDB (one Lance table plus a small manifest). Without an index it
 * scans exactly; `buildIndex` adds an ANN index for large collections, and rows written after
 * it are still found (scanned exactly until `optimize` folds them in).
 */
export class LanceStore implements VectorStore {
  readonly info: StoreInfo;
  private closed = false;

  private constructor(
    private readonly db: lancedb.Connection,
    private readonly table: lancedb.Table,
    private manifest: Manifest,
    dir: string,
  ) {
    this.info = { kind: 'lance', modelId: manifest.modelId, dim: manifest.dim, path: dir };
  }

  /**
   * Creates an empty store in a new directory (parents created): an empty Lance table, then the
   * manifest. An existing directory is E_STORE_EXISTS; a bad modelId or dim is E_INPUT.
   */
  static async create(options: LanceStoreOptions): Promise<LanceStore> {
    const { modelId, dim, path: dir } = options;
    if (typeof modelId !== 'string' || modelId.length === 0) throw new TesseraError('E_INPUT', 'modelId must be a non-empty string');
    if (!Number.isInteger(dim) || dim < 1) throw new TesseraError('E_INPUT', `dim must be a positive integer (got ${dim})`);
    await mkdir(path.dirname(path.resolve(dir)), { recursive: true });
    // A plain mkdir is atomic: of several processes creating the same store, exactly one gets
    // here (LanceDB's own createTable lets both commit, and the loser's writes then conflict).
    try {
      await mkdir(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      throw new TesseraError('E_STORE_EXISTS', `${dir} already exists: open it with LanceStore.open or openStore, or delete it first`, {
        details: { path: dir },
        cause: error,
      });
    }
    const db = await lancedb.connect(dir);
    const table = await db.createEmptyTable(LANCE_TABLE, schemaFor(dim));
    const manifest: Manifest = { format: 'tessera-lance-store', version: 1, modelId, dim, index: null };
    // The manifest is written last: a directory without one is not a finished store.
    await writeFileAtomic(path.join(dir, LANCE_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    return new LanceStore(db, table, manifest, dir);
  }

  /**
   * Opens the store at `options.path`, creating it if nothing is there yet. Safe for several
   * processes at once (sharded indexing): one creates it, the others wait for its manifest.
   */
  static async openOrCreate(options: LanceStoreOptions, waitMs = 60_000): Promise<LanceStore> {
    const dir = options.path;
    if (!existsSync(path.join(dir, LANCE_MANIFEST))) {
      try {
        return await LanceStore.create(options);
      } catch (error) {
        if (!isTesseraError(error, 'E_STORE_EXISTS')) throw error;
      }
      await waitForManifest(dir, waitMs);
    }
    return LanceStore.open(dir);
  }

  /**
   * Opens the store in `dir`: E_IO when its tessera-store.json cannot be read, E_CONFIG when
   * the manifest is invalid, E_STORE_CORRUPT when it is not JSON or the Lance table will not open.
   */
  static async open(dir: string): Promise<LanceStore> {
    const file = path.join(dir, LANCE_MANIFEST);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new TesseraError('E_IO', `cannot read ${file}: ${(error as Error).message} (is ${dir} a Tessera LanceDB store?)`, {
        details: { path: dir },
        cause: error,
      });
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (error) {
      throw new TesseraError('E_STORE_CORRUPT', `${file} is not valid JSON: rebuild the store with \`tessera index\``, {
        details: { path: dir },
        cause: error,
      });
    }
    const manifest = parseConfig(ManifestSchema, raw, file);
    try {
      const db = await lancedb.connect(dir);
      const table = await db.openTable(LANCE_TABLE);
      return new LanceStore(db, table, manifest, dir);
    } catch (error) {
      throw new TesseraError('E_STORE_CORRUPT', `cannot open the LanceDB table in ${dir}: ${(error as Error).message}`, {
        details: { path: dir },
        cause: error,
      });
    }
  }

  /** Index settings in use, or null while the store scans exactly. */
  get index(): Readonly<LanceIndexConfig> | null {
    return this.manifest.index;
  }

  async upsert(modelId: string, records: readonly VectorRecord[]): Promise<void> {
    this.assertOpen();
    checkModel(this.info, modelId);
    const vectors = records.map((record) => checkRecord(this.info, record));
    // The last record of an id wins; merge-insert needs unique keys in its source.
    const last = new Map<string, number>();
    records.forEach((record, i) => {
      last.set(record.id, i);
    });
    const order = [...last.values()];
    const append = (await this.table.countRows()) === 0;
    for (let start = 0; start < order.length; start += WRITE_CHUNK) {
      const chunk = order.slice(start, start + WRITE_CHUNK);
      const data = this.toArrow(
        chunk.map((i) => records[i]),
        chunk.map((i) => vectors[i]),
      );
      // An empty table cannot hold any of these ids: a plain append is much cheaper than a merge.
      if (append) await retryConflicts(() => this.table.add(data));
      else await retryConflicts(() => this.table.mergeInsert('id').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(data));
    }
  }

  async delete(ids: readonly string[]): Promise<number> {
    this.assertOpen();
    let removed = 0;
    for (let start = 0; start < ids.length; start += 1000) {
      const predicate = inList(ids.slice(start, start + 1000));
      removed += await this.table.countRows(predicate);
      await retryConflicts(() => this.table.delete(predicate));
    }
    return removed;
  }

  /** The row with this id read from the table (vector unit length as stored), or undefined. */
  async get(id: string): Promise<StoredRecord | undefined> {
    this.assertOpen();
    const rows = await this.table
      .query()
      .where(`id = ${quote(id)}`)
      .limit(1)
      .toArray();
    if (rows.length === 0) return undefined;
    const row = rows[0];
    const record: StoredRecord = { id: row.id, path: row.path, vector: Float32Array.from(row.vector.toArray() as Float32Array) };
    if (row.caption !== null) record.caption = row.caption;
    if (row.mtime !== null) record.mtime = row.mtime;
    if (row.hash !== null) record.hash = row.hash;
    return record;
  }

  /** Whether the table holds a row with this id. */
  async has(id: string): Promise<boolean> {
    this.assertOpen();
    return (await this.table.countRows(`id = ${quote(id)}`)) > 0;
  }

  /** Rows in the table, indexed or not. */
  async count(): Promise<number> {
    this.assertOpen();
    return this.table.countRows();
  }

  async search(modelId: string, query: Float32Array, k: number, filter?: SearchFilter): Promise<SearchHit[]> {
    this.assertOpen();
    checkModel(this.info, modelId);
    checkK(k);
    checkFilter(filter);
    const q = normalizedCopy(this.info, query, 'query');
    let search = this.table.query().nearestTo(q).distanceType(DISTANCE).limit(k).select(['id', 'path', 'caption', '_distance']);
    const index = this.manifest.index;
    if (index !== null) {
      search = search.nprobes(index.nprobes);
      const refine = index.refineFactor ?? 10;
      if (index.type === 'ivf_pq' && refine > 0) search = search.refineFactor(refine);
      if (index.type === 'ivf_hnsw_sq') search = search.ef(index.ef ?? 4 * k);
    }
    if (filter?.pathPrefix !== undefined) search = search.where(`starts_with(path, ${quote(filter.pathPrefix)})`);
    const rows = await search.toArray();
    // Cosine distance of unit vectors: 1 - <a, b>.
    return rows.map((row) => {
      const hit: SearchHit = { id: row.id, score: 1 - row._distance, path: row.path };
      if (row.caption !== null) hit.caption = row.caption;
      return hit;
    });
  }

  async entries(): Promise<StoredEntry[]> {
    this.assertOpen();
    const rows = await this.table.query().select(['id', 'path', 'mtime', 'hash']).toArray();
    return rows.map((row) => {
      const entry: StoredEntry = { id: row.id, path: row.path };
      if (row.mtime !== null) entry.mtime = row.mtime;
      if (row.hash !== null) entry.hash = row.hash;
      return entry;
    });
  }

  /**
   * Trains and writes the ANN index over the current rows (needs a few hundred rows at least;
   * PQ trains 256 centroids per sub-vector). Replaces any previous index.
   */
  async buildIndex(options: LanceIndexOptions = {}): Promise<LanceIndexConfig> {
    this.assertOpen();
    const config = parseConfig(LanceIndexSchema, options, 'LanceDB index options');
    const rows = await this.table.countRows();
    if (rows < 256)
      throw new TesseraError('E_INPUT', `an ANN index needs at least 256 rows (store has ${rows}); small stores are searched exactly`);
    const numPartitions = config.numPartitions ?? Math.max(1, Math.round(Math.sqrt(rows)));
    const common = { distanceType: DISTANCE, numPartitions, maxIterations: config.maxIterations, sampleRate: config.sampleRate };
    // The manifest keeps only the settings that apply to the chosen index type, resolved.
    const { type, maxIterations, sampleRate, nprobes } = config;
    const base = { type, numPartitions, maxIterations, sampleRate, nprobes };
    let index: lancedb.Index;
    let saved: LanceIndexConfig;
    if (type === 'ivf_flat') {
      index = lancedb.Index.ivfFlat(common);
      saved = base;
    } else if (type === 'ivf_pq') {
      const numSubVectors = config.numSubVectors ?? Math.max(1, Math.floor(this.info.dim / 8));
      index = lancedb.Index.ivfPq({ ...common, numSubVectors });
      saved = { ...base, numSubVectors, refineFactor: config.refineFactor ?? 10 };
    } else {
      const m = config.m ?? 20;
      const efConstruction = config.efConstruction ?? 150;
      index = lancedb.Index.hnswSq({ ...common, m, efConstruction });
      saved = { ...base, m, efConstruction, ...(config.ef === undefined ? {} : { ef: config.ef }) };
    }
    await this.table.createIndex('vector', { config: index, replace: true });
    await this.saveManifest({ ...this.manifest, index: saved });
    return this.manifest.index!;
  }

  /** Changes query-time settings (nprobes, refineFactor, ef) of the built index. */
  async setSearchParams(params: Pick<LanceIndexOptions, 'nprobes' | 'refineFactor' | 'ef'>): Promise<void> {
    this.assertOpen();
    if (this.manifest.index === null) throw new TesseraError('E_INPUT', 'this store has no ANN index: call buildIndex first');
    const merged = parseConfig(LanceIndexSchema, { ...this.manifest.index, ...params }, 'LanceDB search parameters');
    await this.saveManifest({ ...this.manifest, index: merged });
  }

  /** Folds rows written since the index was built into it and compacts the table's files. */
  async optimize(): Promise<void> {
    this.assertOpen();
    await this.table.optimize();
  }

  async flush(): Promise<void> {
    this.assertOpen();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.table.close();
    this.db.close();
  }

  private async saveManifest(manifest: Manifest): Promise<void> {
    await writeFileAtomic(path.join(this.info.path!, LANCE_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    this.manifest = manifest;
  }

  private toArrow(records: VectorRecord[], vectors: Float32Array[]): import('apache-arrow').Table {
    const { dim } = this.info;
    const flat = new Float32Array(records.length * dim);
    vectors.forEach((v, i) => {
      flat.set(v, i * dim);
    });
    const schema = schemaFor(dim);
    const vectorType = schema.fields[1].type;
    const child = arrow.makeData({ type: new arrow.Float32(), length: flat.length, data: flat });
    const columns = [
      arrow.vectorFromArray(
        records.map((r) => r.id),
        new arrow.Utf8(),
      ).data[0],
      arrow.makeData({ type: vectorType, length: records.length, nullCount: 0, child }),
      arrow.vectorFromArray(
        records.map((r) => r.path),
        new arrow.Utf8(),
      ).data[0],
      arrow.vectorFromArray(
        records.map((r) => r.caption ?? null),
        new arrow.Utf8(),
      ).data[0],
      arrow.vectorFromArray(
        records.map((r) => r.mtime ?? null),
        new arrow.Float64(),
      ).data[0],
      arrow.vectorFromArray(
        records.map((r) => r.hash ?? null),
        new arrow.Utf8(),
      ).data[0],
    ];
    const data = arrow.makeData({ type: new arrow.Struct(schema.fields), length: records.length, nullCount: 0, children: columns });
    return new arrow.Table([new arrow.RecordBatch(schema, data)]);
  }

  private assertOpen(): void {
    if (this.closed) throw closedError(this.info);
  }
}

function schemaFor(dim: number): import('apache-arrow').Schema {
  const item = new arrow.Field('item', new arrow.Float32(), true);
  return new arrow.Schema([
    new arrow.Field('id', new arrow.Utf8(), false),
    new arrow.Field('vector', new arrow.FixedSizeList(dim, item), false),
    new arrow.Field('path', new arrow.Utf8(), false),
    new arrow.Field('caption', new arrow.Utf8(), true),
    new arrow.Field('mtime', new arrow.Float64(), true),
    new arrow.Field('hash', new arrow.Utf8(), true),
  ]);
}

/**
 * What a store's creator has in `dir` before the manifest is renamed in: the table, LanceDB's
 * `__manifest` table of tables, and our manifest's temp file.
 */
function partOfCreation(name: string): boolean {
  return name === `${LANCE_TABLE}.lance` || name === '__manifest' || name.startsWith(`${LANCE_MANIFEST}.tmp-`);
}

/** Waits for another process to finish creating the store in `dir` (its manifest is written last). */
async function waitForManifest(dir: string, waitMs: number): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (let delay = 20; !existsSync(path.join(dir, LANCE_MANIFEST)); delay = Math.min(delay * 2, 1000)) {
    const names = await readdir(dir).catch(() => [] as string[]);
    if (names.some((name) => !partOfCreation(name)) || Date.now() > deadline) {
      throw new TesseraError(
        'E_STORE_UNKNOWN',
        `${dir} is a directory without ${LANCE_MANIFEST}: not a Tessera vector store (or its creation was interrupted: delete it and rerun)`,
        { details: { path: dir } },
      );
    }
    await sleep(delay);
  }
}

/** A SQL string literal (LanceDB filters are DataFusion SQL). */
function quote(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

function inList(ids: readonly string[]): string {
  return `id IN (${ids.map(quote).join(', ')})`;
}
