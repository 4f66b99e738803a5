/**
 * @tessera/train: trainer for Tessera modules: AdamW, LR schedules, clipping, gradient accumulation
 * (incl. cached-feature contrastive), evaluation, early stopping, JSONL metrics and SVG curves, atomic
 * resumable checkpoints, YAML/JSON configs with CLI overrides.
 *
 * @module @tessera/train
 */
export { AdamW, type AdamWOptions, type AdamWState } from './adamw.js';
export { type CachedFeatureOptions, cachedFeatureGradients } from './cachedFeatures.js';
export {
  bestCheckpoint,
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  type Checkpoint,
  latestCheckpoint,
  listCheckpoints,
  loadCheckpoint,
  markBest,
  pruneCheckpoints,
  type SaveHook,
  type SaveStage,
  saveCheckpoint,
  type TrainingState,
} from './checkpoint.js';
export { clipGradNorm, globalNorm } from './clipping.js';
export { parseTrainConfig, type TrainConfig, type TrainConfigInput, trainConfigSchema, trainSectionSchema } from './config.js';
export { type CurveOptions, type CurveSeries, niceTicks, renderCurveSvg } from './curve.js';
export { meanGradients, totalLoss, valueAndGrads } from './gradients.js';
export { renderMetricsCurves } from './metricsCurves.js';
export { MetricsLog, type MetricsRecord } from './metricsLog.js';
export { applyOverrides, type ConfigOverride, loadConfigFile, parseOverrides, parseOverrideValue } from './overrides.js';
export {
  constantSchedule,
  cosineSchedule,
  type LrSchedule,
  linearSchedule,
  makeSchedule,
  type ScheduleName,
  type ScheduleOptions,
} from './schedules.js';
export { type EvalContext, type EvalFn, type FitOptions, Trainer, type TrainerOptions, type TrainResult } from './trainer.js';
export type { BatchSource, GradientFn, LossFn, LossOutput, StepContext, StepGradients } from './types.js';
