/** One item to store: an embedding plus what is needed to show and refresh it. */
export interface VectorRecord {
  /** Stable id (e.g. the file path relative to its root); upserting the same id replaces it. */
  id: string;
  /** The embedding; any non-zero finite vector of the store's dimension (stored L2-normalised). */
  vector: Float32Array;
  /** Where the item lives (an image file), shown in results. */
  path: string;
  caption?: string;
  /** Source file modification time in ms, for incremental indexing. */
  mtime?: number;
  /** Source content hash, for incremental indexing. */
  hash?: string;
}

/** A stored record as returned by `get` (vector L2-normalised). */
export type StoredRecord = Required<Pick<VectorRecord, 'id' | 'vector' | 'path'>> & Omit<VectorRecord, 'id' | 'vector' | 'path'>;

/** What incremental indexing needs to know about each stored item. */
export interface StoredEntry {
  id: string;
  path: string;
  mtime?: number;
  hash?: string;
}

/** One search result; `score` is the cosine similarity (inner product of unit vectors), highest first. */
export interface SearchHit {
  id: string;
  score: number;
  path: string;
  caption?: string;
}

/** Restricts a search to records whose path starts with `pathPrefix`. */
export interface SearchFilter {
  pathPrefix?: string;
}

/** Fixed at creation: every vector in a store comes from one model with one dimension. */
export interface StoreInfo {
  kind: 'exact' | 'lance';
  modelId: string;
  dim: number;
  /** Where the store persists (a file for exact, a directory for lance); undefined for a memory-only store. */
  path: string | undefined;
}

/**
 * A vector store. Every call that carries vectors names the model that made them; a store
 * refuses vectors from another model or of another dimension (TesseraError E_STORE_MODEL /
 * E_STORE_DIMENSION) instead of returning meaningless neighbours.
 */
export interface VectorStore {
  readonly info: StoreInfo;
  /** Inserts or replaces records by id (no duplicates, however often it is rerun). */
  upsert(modelId: string, records: readonly VectorRecord[]): Promise<void>;
  /** Removes records by id; returns how many existed. */
  delete(ids: readonly string[]): Promise<number>;
  /** The stored record with this id (its vector L2-normalised), or undefined when there is none. */
  get(id: string): Promise<StoredRecord | undefined>;
  /** Whether a record with this id is stored. */
  has(id: string): Promise<boolean>;
  /** Number of records stored. */
  count(): Promise<number>;
  /** The k records most similar to `query` (cosine), highest score first. */
  search(modelId: string, query: Float32Array, k: number, filter?: SearchFilter): Promise<SearchHit[]>;
  /** Every stored id with its path, mtime and hash: what incremental indexing compares against. */
  entries(): Promise<StoredEntry[]>;
  /** Makes every change so far durable on disk (a no-op for memory-only stores). */
  flush(): Promise<void>;
  /** Flushes and releases the store; later calls fail. */
  close(): Promise<void>;
}
