/**
 * @tessera/objectives: contrastive and masked pretraining objectives. Each objective is a pure
 * function over tensors plus a thin class configured by a zod schema, returning a typed output
 * (the loss, its parts, and the metrics to watch). Losses and gradients are checked against
 * PyTorch (test/fixtures/make_fixtures.py).
 *
 * @module @tessera/objectives
 */

export {
  CaptioningLoss,
  type CaptioningLossConfig,
  type CaptioningLossInput,
  captioningLoss,
  captioningLossConfigSchema,
  teacherForcing,
} from './captioningLoss.js';
export { ClipLoss, type ClipLossConfig, type ClipLossInput, type ClipLossOutput, clipLoss, clipLossConfigSchema } from './clipLoss.js';
export { type CocaLossOutput, type CocaWeights, cocaLoss, cocaWeightsSchema } from './cocaLoss.js';
export { CombinedObjective, type CombinedObjectiveConfig, combinedObjectiveConfigSchema } from './combinedObjective.js';
export { type ContrastiveMetrics, contrastiveMetrics } from './contrastiveMetrics.js';
export {
  softTargetCrossEntropy,
  type TokenCrossEntropyOptions,
  type TokenCrossEntropyOutput,
  tokenCrossEntropy,
} from './crossEntropy.js';
export {
  type DistillationConfig,
  type DistillationInput,
  DistillationLoss,
  type DistillationOutput,
  distillationConfigSchema,
  type EmbeddingLossKind,
  embeddingDistillationLoss,
  logitDistillationLoss,
} from './distillation.js';
export { FeatureQueue } from './featureQueue.js';
export {
  ItcLoss,
  type ItcLossConfig,
  type ItcLossForward,
  type ItcLossInput,
  type ItcLossOutput,
  itcLoss,
  itcLossConfigSchema,
} from './itcLoss.js';
export { type HardNegatives, ItmHead, type ItmHeadConfig, itmHeadConfigSchema, itmLabels, itmLoss, sampleHardNegatives } from './itm.js';
export { type MaeLossConfig, type MaeLossInput, type MaeLossOutput, MaskedImageModeling, maeLoss, maeLossConfigSchema } from './maeLoss.js';
export { gatherPatches, type PatchMasking, randomPatchMasking } from './maeMasking.js';
export { MaskedLanguageModeling, type MlmLossInput, type MlmLossOutput, mlmLoss } from './mlmLoss.js';
export {
  type MlmMaskingConfig,
  type MlmMaskingCounts,
  type MlmMaskingOutput,
  maskTokens,
  maskTokenTensor,
  mlmMaskingConfigSchema,
  wordIdsFromContinuation,
} from './mlmMasking.js';
export { MomentumEncoder } from './momentum.js';
export { positivesFromIds, resolvePositives } from './positives.js';
export {
  SiglipLoss,
  type SiglipLossConfig,
  type SiglipLossInput,
  type SiglipLossOutput,
  siglipLoss,
  siglipLossConfigSchema,
} from './siglipLoss.js';
export { l2Normalize, stopGradient } from './tensorUtils.js';
export { shuffleWordOrder, shuffleWordOrderTensor, TextDenoising, type WordShuffleOptions } from './textDenoising.js';
