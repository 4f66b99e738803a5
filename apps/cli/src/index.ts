/**
 * @tessera/cli: the `tessera` command, and the pieces behind it that scripts can call:
 * CLIP training on a manifest (`trainClip`) and retrieval evaluation (`evaluateRetrieval`).
 */
export { type AugmentSettings, type ContrastiveBatch, ContrastiveSource, type ContrastiveSourceOptions } from './clip/contrastiveSource.js';
export { type FinetuneOptions, finetuneClassifier } from './clip/finetune.js';
export { captionLang, type PreparedPair, preparePairs } from './clip/pairs.js';
export {
  evaluateRetrieval,
  formatRetrieval,
  type RetrievalEvalOptions,
  type RetrievalReport,
} from './clip/retrieval.js';
export { augmentSchema, loadRunConfig, parseRunConfig, type RunConfig, type RunConfigInput, runConfigSchema } from './clip/runConfig.js';
export { stripRanks, type TrainClipOptions, type TrainClipResult, trainClip } from './clip/trainClip.js';
export { type ZeroShotEvalOptions, zeroShotAccuracy } from './clip/zeroShotEval.js';
export { createProgram } from './program.js';
