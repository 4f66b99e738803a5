import { initBackend, TesseraError } from '@tessera/core';
import { type ExactScanOptions, openStore, type SearchHit, storeVersion, type VectorStore } from '@tessera/index';
import { Embedder } from './embedder.js';
import { readSidecar, rootsFile } from './storeRoots.js';

/** One opened copy of the store, with the roots recorded beside it and the searches still using it. */
interface Generation {
  store: VectorStore;
  roots: readonly string[];
  /** storeVersion of the store plus the sidecar's, taken before opening. */
  version: string;
  leases: number;
  retired: boolean;
}

/** The store's stamp and its sidecar's: `tessera index` rewrites both. */
async function versionOf(storePath: string): Promise<string> {
  const [store, sidecar] = await Promise.all([storeVersion(storePath), storeVersion(rootsFile(storePath))]);
  return `${store}#${sidecar}`;
}

/**
 * A checkpoint and a store opened together: text and image queries in, ranked hits out. Before
 * each use it compares the store's stamp (a stat or two) with the one it opened; when
 * `tessera index` has rewritten the store it opens the new one, swaps it in, and closes the old
 * one once the searches still running on it finish.
 */
export class RetrievalService {
  private current: Generation;
  private reloading: Promise<void> | null = null;
  /** A stamp whose store failed to open (kept until the store changes again, so it is not retried per request). */
  private failedVersion: string | null = null;
  /** Why the last reload failed (the previous store is still served), or null. */
  reloadError: TesseraError | null = null;

  private constructor(
    readonly embedder: Embedder,
    readonly storePath: string,
    first: Generation,
    private readonly scan: ExactScanOptions,
  ) {
    this.current = first;
  }

  /**
   * Starts the tensor backend, opens the store (which must exist) and loads the checkpoint:
   * `checkpoint`, else the one `tessera index` recorded for the store. `scan` picks how an
   * exact store scans (float32, or int8 with a float32 re-rank), on this and every reload.
   */
  static async open(storePath: string, checkpointDir?: string, scan: ExactScanOptions = {}): Promise<RetrievalService> {
    const version = await versionOf(storePath);
    const sidecar = await readSidecar(storePath);
    const checkpoint = checkpointDir ?? sidecar.checkpoint;
    if (checkpoint === undefined)
      throw new TesseraError('E_CONFIG', `${storePath} does not record its checkpoint: pass --checkpoint <model dir>`);
    await initBackend();
    const embedder = await Embedder.load(checkpoint);
    let store: VectorStore;
    try {
      store = await openMatching(storePath, embedder, checkpoint, scan);
    } catch (error) {
      embedder.dispose();
      throw error;
    }
    return new RetrievalService(embedder, storePath, { store, roots: sidecar.roots, version, leases: 0, retired: false }, scan);
  }

  /** The store served now (a later reload may replace it: use `withStore` to keep one for a whole call). */
  get store(): VectorStore {
    return this.current.store;
  }

  /** Folders the indexed images came from (the only ones `serve` reads). */
  get roots(): readonly string[] {
    return this.current.roots;
  }

  /**
   * Runs `use` on the newest store, which stays open until `use` settles even if a reload
   * replaces it meanwhile.
   */
  async withStore<T>(use: (store: VectorStore, roots: readonly string[]) => Promise<T>): Promise<T> {
    await this.refresh();
    const generation = this.current;
    generation.leases++;
    try {
      return await use(generation.store, generation.roots);
    } finally {
      generation.leases--;
      if (generation.retired && generation.leases === 0) await generation.store.close();
    }
  }

  /** Reopens the store if it changed on disk since it was opened; concurrent callers share one reload. */
  async refresh(): Promise<void> {
    if (this.reloading) return this.reloading;
    const version = await versionOf(this.storePath);
    if (version === this.current.version || version === this.failedVersion) return;
    if (this.reloading) return this.reloading; // another caller started while we stat'ed
    this.reloading = this.reload(version).finally(() => {
      this.reloading = null;
    });
    return this.reloading;
  }

  private async reload(version: string): Promise<void> {
    let next: Generation;
    try {
      // The stamp was taken before opening: a write racing the open only causes one more reload.
      const sidecar = await readSidecar(this.storePath);
      const store = await openMatching(this.storePath, this.embedder, 'the served checkpoint', this.scan);
      next = { store, roots: sidecar.roots, version, leases: 0, retired: false };
    } catch (error) {
      // Keep serving the store that works; say why in /health.
      this.failedVersion = version;
      this.reloadError =
        error instanceof TesseraError ? error : new TesseraError('E_STORE_RELOAD', `cannot reopen ${this.storePath}: ${String(error)}`);
      return;
    }
    const old = this.current;
    this.current = next;
    this.failedVersion = null;
    this.reloadError = null;
    old.retired = true;
    if (old.leases === 0) await old.store.close();
  }

  /** Text to image: the k images closest to the caption-like query. */
  searchText(text: string, k: number): Promise<SearchHit[]> {
    if (text.trim() === '') throw new TesseraError('E_QUERY', 'the text query is empty: type what the image shows');
    const [query] = this.embedder.embedTexts([text]);
    return this.withStore((store) => store.search(this.embedder.modelId, query as Float32Array, k));
  }

  /** Image to image: the k indexed images closest to an image (bytes or path). */
  async searchImage(input: string | Uint8Array, k: number, name?: string): Promise<SearchHit[]> {
    const image = await this.embedder.decode(input, name);
    const [query] = this.embedder.embedImages([image]);
    return this.withStore((store) => store.search(this.embedder.modelId, query as Float32Array, k));
  }

  async close(): Promise<void> {
    await this.reloading;
    const generation = this.current;
    generation.retired = true;
    if (generation.leases === 0) await generation.store.close();
    this.embedder.dispose();
  }
}

/** Opens the store and checks it was indexed by `embedder`'s model (E_STORE_MODEL otherwise). */
async function openMatching(storePath: string, embedder: Embedder, checkpoint: string, scan: ExactScanOptions): Promise<VectorStore> {
  const store = await openStore(storePath, { exact: scan });
  if (store.info.modelId !== embedder.modelId) {
    await store.close();
    throw new TesseraError(
      'E_STORE_MODEL',
      `${storePath} was indexed with model ${store.info.modelId}, but ${checkpoint} is ${embedder.modelId}: search with the checkpoint that built it, or rerun \`tessera index\``,
    );
  }
  return store;
}
