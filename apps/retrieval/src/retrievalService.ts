import { initBackend, TesseraError } from '@tessera/core';
import { openStore, type SearchHit, type VectorStore } from '@tessera/index';
import { Embedder } from './embedder.js';
import { readSidecar } from './storeRoots.js';

/** A checkpoint and a store opened together: text and image queries in, ranked hits out. */
export class RetrievalService {
  private constructor(
    readonly embedder: Embedder,
    readonly store: VectorStore,
    /** Folders the indexed images came from (the only ones `serve` reads). */
    readonly roots: readonly string[],
  ) {}

  /**
   * Starts the tensor backend, opens the store (which must exist) and loads the checkpoint:
   * `checkpoint`, else the one `tessera index` recorded for the store.
   */
  static async open(storePath: string, checkpointDir?: string): Promise<RetrievalService> {
    const sidecar = await readSidecar(storePath);
    const checkpoint = checkpointDir ?? sidecar.checkpoint;
    if (checkpoint === undefined)
      throw new TesseraError('E_CONFIG', `${storePath} does not record its checkpoint: pass --checkpoint <model dir>`);
    await initBackend();
    const embedder = await Embedder.load(checkpoint);
    const store = await openStore(storePath);
    if (store.info.modelId !== embedder.modelId) {
      await store.close();
      embedder.dispose();
      throw new TesseraError(
        'E_STORE_MODEL',
        `${storePath} was indexed with model ${store.info.modelId}, but ${checkpoint} is ${embedder.modelId}: search with the checkpoint that built it, or rerun \`tessera index\``,
      );
    }
    return new RetrievalService(embedder, store, sidecar.roots);
  }

  /** Text to image: the k images closest to the caption-like query. */
  searchText(text: string, k: number): Promise<SearchHit[]> {
    if (text.trim() === '') throw new TesseraError('E_QUERY', 'the text query is empty: type what the image shows');
    const [query] = this.embedder.embedTexts([text]);
    return this.store.search(this.embedder.modelId, query as Float32Array, k);
  }

  /** Image to image: the k indexed images closest to an image (bytes or path). */
  async searchImage(input: string | Uint8Array, k: number, name?: string): Promise<SearchHit[]> {
    const image = await this.embedder.decode(input, name);
    const [query] = this.embedder.embedImages([image]);
    return this.store.search(this.embedder.modelId, query as Float32Array, k);
  }

  async close(): Promise<void> {
    await this.store.close();
    this.embedder.dispose();
  }
}
