/**
 * @tessera/objectives: contrastive and masked pretraining objectives. Each objective is a pure
 * function over tensors plus a thin class configured by a zod schema, returning a typed output
 * (the loss, its parts, and metrics to watch).
 */
export { ClipLoss, type ClipLossConfig, type ClipLossInput, type ClipLossOutput, clipLoss, clipLossConfigSchema } from './clipLoss.js';
export {
  softTargetCrossEntropy,
  type TokenCrossEntropyOptions,
  type TokenCrossEntropyOutput,
  tokenCrossEntropy,
} from './crossEntropy.js';
export { MaskedLanguageModeling, type MlmLossInput, mlmLoss } from './mlmLoss.js';
export {
  type MlmMaskingConfig,
  type MlmMaskingCounts,
  type MlmMaskingOutput,
  maskTokens,
  maskTokenTensor,
  mlmMaskingConfigSchema,
  wordIdsFromContinuation,
} from './mlmMasking.js';
export { type ContrastiveMetrics, resolvePositives, retrievalMetrics } from './positives.js';
export {
  SiglipLoss,
  type SiglipLossConfig,
  type SiglipLossInput,
  type SiglipLossOutput,
  siglipLoss,
  siglipLossConfigSchema,
} from './siglipLoss.js';
export { l2Normalize, stopGradient } from './tensorUtils.js';
