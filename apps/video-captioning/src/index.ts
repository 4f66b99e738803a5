// @tessera/video-captioning: the video captioning app — the recipe around the Captioner of
// @tessera/models: its dataset, training with the shared Trainer, greedy/beam captioning in
// English or Chinese, COCO caption metrics, CLI commands and the /caption route.
export { type CaptionBatch, CaptionBatchSource, type CaptionClip, type LoadedCaptionSet, loadCaptionSet } from './captionDataset.js';
export { type CaptionLimits, type CaptionResponse, createCaptionRoute, DEFAULT_CAPTION_LIMITS } from './captionRoute.js';
export { type CaptionResult, captionVideo } from './captionVideo.js';
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
