// @tessera/video-captioning: the video captioning app — a captioner (per-frame ViT + temporal
// embeddings, Transformer decoder with cross-attention), training with the shared Trainer,
// greedy/beam decoding in English or Chinese, COCO caption metrics and CLI commands.
export { type CaptionBatch, CaptionBatchSource, type CaptionClip, type LoadedCaptionSet, loadCaptionSet } from './captionDataset.js';
export {
  Captioner,
  type CaptionerConfig,
  type CaptionerConfigInput,
  captionerBaseSchema,
  captionerConfigSchema,
  type DecodeOptions,
} from './captioner.js';
export { CAPTIONER_FILES, type LoadedCaptioner, loadCaptioner, saveCaptioner } from './captionerDirectory.js';
export { type CaptionLimits, type CaptionResponse, createCaptionRoute, DEFAULT_CAPTION_LIMITS } from './captionRoute.js';
export { type CaptionResult, captionVideo } from './captionVideo.js';
export { CAPTION_LANGS, type CaptionLang, CaptionVocab, type CaptionVocabJson } from './captionVocab.js';
export { clipTensor, frameProcessor, loadClipFrames } from './clipFrames.js';
export {
  createCaptionCommand,
  createCaptioningCommands,
  createEvalCaptionsCommand,
  formatCaptionEvaluation,
  trainCaptionerTask,
} from './commands.js';
export { type CaptionerEvaluation, evaluateCaptioner } from './evaluateCaptioner.js';
export { inputErrorStatus } from './inputErrorStatus.js';
export {
  type CaptionerRunConfig,
  type CaptionerRunConfigInput,
  captionerRunConfigSchema,
  loadCaptionerRunConfig,
  parseCaptionerRunConfig,
  type TrainCaptionerResult,
  trainCaptioner,
} from './trainCaptioner.js';
export { greedyDecodeUncached } from './uncachedGreedy.js';
export { initVisionFromClip } from './visionInit.js';
