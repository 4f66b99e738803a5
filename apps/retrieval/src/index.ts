/**
 * @tessera/retrieval: the retrieval app. `tessera index` embeds image folders into a
 * @tessera/index vector store, `tessera search` queries it by text or image, and
 * `tessera serve` answers over HTTP (hono) with a search page.
 */
export { createRetrievalCommands } from './commands.js';
export { Embedder, MAX_QUERY_CHARS } from './embedder.js';
export { IMAGE_EXTENSIONS, type ImageListing, insideRoots, listImages, type SourceImage } from './imageSource.js';
export { type IndexOptions, type IndexReport, indexImages } from './indexImages.js';
export { SEARCH_PAGE } from './page.js';
export { type CaptionHit, rankCaptions } from './rankCaptions.js';
export { RetrievalService } from './retrievalService.js';
export { type ApiHit, createApp, DEFAULT_LIMITS, type RunningServer, type ServerLimits, startServer } from './server.js';
export { readSidecar, rootsFile, type StoreSidecar, writeSidecar } from './storeRoots.js';
