/**
 * @tessera/retrieval: the retrieval app. The CLIP recipe (`trainClip` on a manifest of
 * text-image pairs, retrieval and zero-shot evaluation, fine-tuning a classifier), and serving
 * what it trains: `tessera index` embeds image folders into a @tessera/index vector store,
 * `tessera search` queries it by text or image, and `tessera serve` answers over HTTP (hono)
 * with a search page.
 */

export {
  createEvalRetrievalCommand,
  createFinetuneCommand,
  createRetrievalCommands,
  numberOption,
  type TrainTaskOptions,
  trainClipTask,
} from './commands.js';
export {
  type ContactSheetHit,
  type ContactSheetOptions,
  type ContactSheetQuery,
  type ContactSheetResult,
  type ContactSheetRow,
  contactSheetQueries,
  writeContactSheet,
} from './contactSheet.js';
export { type AugmentSettings, type ContrastiveBatch, ContrastiveSource, type ContrastiveSourceOptions } from './contrastiveSource.js';
export { Embedder, MAX_QUERY_CHARS } from './embedder.js';
export {
  evaluateRetrieval,
  formatRetrieval,
  type RetrievalEvalOptions,
  type RetrievalReport,
} from './evaluateRetrieval.js';
export { type FinetuneOptions, finetuneClassifier } from './finetune.js';
export { IMAGE_EXTENSIONS, type ImageListing, insideRoots, listImages, type SourceImage } from './imageSource.js';
export { type IndexOptions, type IndexReport, indexImages } from './indexImages.js';
export { SEARCH_PAGE } from './page.js';
export { captionLang, type PreparedPair, preparePairs } from './pairs.js';
export { type CaptionHit, rankCaptions } from './rankCaptions.js';
export { RetrievalService } from './retrievalService.js';
export { augmentSchema, loadRunConfig, parseRunConfig, type RunConfig, type RunConfigInput, runConfigSchema } from './runConfig.js';
export {
  type ApiHit,
  createApp,
  createServerApp,
  DEFAULT_LIMITS,
  type RunningServer,
  type ServerLimits,
  type ServerPart,
  type StartOptions,
  searchPart,
  startServer,
} from './server.js';
export { bearerAuth, isLoopbackHost, resolveServeAuth, type ServeAuthOptions, tokenMatches } from './serverAuth.js';
export { inShard, parseShard, type Shard, shardOf } from './shard.js';
export { readSidecar, rootsFile, type StoreSidecar, writeSidecar } from './storeRoots.js';
export { type ThumbnailOptions, thumbnailPng } from './thumbnail.js';
export { stripRanks, type TrainClipOptions, type TrainClipResult, trainClip } from './trainClip.js';
export { type ZeroShotEvalOptions, zeroShotAccuracy } from './zeroShotEval.js';
