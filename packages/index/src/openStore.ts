import { existsSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { TesseraError } from '@tessera/core';
import { type ExactScanOptions, ExactStore } from './exactStore.js';
import { hasFlatMagic } from './flatFile.js';
import { LANCE_MANIFEST, LanceStore } from './lanceStore.js';
import type { StoreInfo, VectorStore } from './vectorStore.js';

/** How `openStore` behaves when nothing is at the path yet. */
export interface OpenStoreOptions {
  /** Create this kind of store when nothing is at `path` yet (otherwise that is E_STORE_NOT_FOUND). */
  create?: { kind: StoreInfo['kind']; modelId: string; dim: number };
  /** How an exact store scans (float32, or int8 with a float32 re-rank); ignored by a LanceStore. */
  exact?: ExactScanOptions;
}

/**
 * Opens the store at `path`, choosing by what is on disk: a flat file starting with the exact
 * store's magic is an ExactStore, a directory holding tessera-store.json is a LanceStore.
 */
export async function openStore(storePath: string, options: OpenStoreOptions = {}): Promise<VectorStore> {
  // The manifest and the creation claim go through the local filesystem; a URI would become a local folder named `s3:`.
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(storePath)) {
    throw new TesseraError(
      'E_CONFIG',
      `${storePath}: object-store URIs are not supported yet; give a directory (local, or a shared filesystem every indexer mounts)`,
      { details: { path: storePath } },
    );
  }
  if (!existsSync(storePath)) {
    const { create } = options;
    if (create === undefined) {
      throw new TesseraError('E_STORE_NOT_FOUND', `no vector store at ${storePath}: build one with \`tessera index\``, {
        details: { path: storePath },
      });
    }
    if (create.kind === 'exact') return ExactStore.create({ ...create, ...options.exact, path: storePath });
    return LanceStore.openOrCreate({ ...create, path: storePath });
  }
  const stats = await stat(storePath);
  if (stats.isDirectory()) {
    if (existsSync(path.join(storePath, LANCE_MANIFEST))) return LanceStore.open(storePath);
    // Another process may be creating this store right now (sharded indexing): wait for it.
    if (options.create?.kind === 'lance') return LanceStore.openOrCreate({ ...options.create, path: storePath });
    throw new TesseraError('E_STORE_UNKNOWN', `${storePath} is a directory without ${LANCE_MANIFEST}: not a Tessera vector store`, {
      details: { path: storePath },
    });
  }
  const handle = await open(storePath, 'r');
  const head = new Uint8Array(8);
  try {
    await handle.read(head, 0, 8, 0);
  } finally {
    await handle.close();
  }
  if (!hasFlatMagic(head)) {
    throw new TesseraError('E_STORE_UNKNOWN', `${storePath} is not a Tessera vector store file (wrong magic bytes)`, {
      details: { path: storePath },
    });
  }
  return ExactStore.open(storePath, options.exact);
}
