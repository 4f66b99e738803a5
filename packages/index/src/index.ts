/**
 * @tessera/index: vector stores behind one interface (exact in memory, LanceDB on disk).
 *
 * @module @tessera/index
 */
export { type ExactScanOptions, ExactStore, type ExactStoreOptions } from './exactStore.js';
export { FLAT_MAGIC, FLAT_VERSION, parseFlatStore, serializeFlatStore } from './flatFile.js';
export { LANCE_MANIFEST, type LanceIndexOptions, LanceIndexSchema, LanceStore, type LanceStoreOptions } from './lanceStore.js';
export { type OpenStoreOptions, openStore } from './openStore.js';
export { storeVersion } from './storeVersion.js';
export { TopK } from './topK.js';
export { type BatchKernel, batchKernelChosen } from './vectorMatrix.js';
export type { SearchFilter, SearchHit, StoredEntry, StoredRecord, StoreInfo, VectorRecord, VectorStore } from './vectorStore.js';
