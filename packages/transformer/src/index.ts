/**
 * @tessera/transformer: the shared cross-attention Transformer: layers, text/vision/video encoders, fusion encoder, decoder with KV cache, generation.
 *
 * @module @tessera/transformer
 */

export { causalBias, MASKED, paddingBias } from './attention/masks.js';
export {
  type AttentionOptions,
  type AttentionOutput,
  type KeyValue,
  MultiHeadAttention,
  type MultiHeadAttentionConfig,
} from './attention/multiHeadAttention.js';
export {
  type BlockCache,
  type BlockOptions,
  type BlockOutput,
  TransformerBlock,
  type TransformerBlockConfig,
} from './blocks/transformerBlock.js';
export { type BlockSettings, blockSettings, type StackCache, TransformerStack } from './blocks/transformerStack.js';
export { shapeError } from './checks.js';
export {
  Decoder,
  type DecoderCache,
  type DecoderConfig,
  type DecoderOptions,
  type DecoderOutput,
  disposeCache,
} from './decoder/decoder.js';
export type { EncoderOutput } from './encoders/encoderOutput.js';
export { FusionEncoder, type FusionEncoderConfig, type FusionInputs } from './encoders/fusionEncoder.js';
export { POOLINGS, type Pooling, poolHidden, poolingWeights } from './encoders/pooling.js';
export { TextEmbeddings, TextEncoder, type TextEncoderConfig } from './encoders/textEncoder.js';
export { VideoEncoder, type VideoEncoderConfig } from './encoders/videoEncoder.js';
export { VisionEncoder, type VisionEncoderConfig } from './encoders/visionEncoder.js';
export {
  type GenerateConfig,
  type GenerateInputs,
  type GenerateResult,
  generate,
} from './generation/generate.js';
export {
  applyRepetitionPenalty,
  applyTemperature,
  applyTopK,
  applyTopP,
  argmax,
  logSoftmax,
  softmax,
} from './generation/logitsProcessors.js';
export { INIT_SCHEMES, type InitScheme, initWeight } from './init.js';
export { ACTIVATIONS, type Activation, activation, gelu, geluTanh, quickGelu } from './layers/activations.js';
export { AttentionPoolingHead, type AttentionPoolingHeadConfig } from './layers/attentionPoolingHead.js';
export { ClassToken, type ClassTokenConfig } from './layers/classToken.js';
export { Dropout, type DropoutConfig } from './layers/dropout.js';
export { bicubicMatrix, interpolateGrid } from './layers/interpolateGrid.js';
export { LayerNorm, type LayerNormConfig } from './layers/layerNorm.js';
export { LearnedPositionEmbedding, type LearnedPositionEmbeddingConfig } from './layers/learnedPositionEmbedding.js';
export { Linear, type LinearConfig } from './layers/linear.js';
export { MLP, type MLPConfig } from './layers/mlp.js';
export { PatchEmbedding, type PatchEmbeddingForwardOptions, type PatchEmbeddingOptions } from './layers/patchEmbedding.js';
export type { PositionEmbedding } from './layers/positionEmbedding.js';
export {
  PredictionHeadTransform,
  type PredictionHeadTransformConfig,
} from './layers/predictionHeadTransform.js';
export { type SinCosLayout, sincos1d, sincos2d, sinusoidalTable, temporalPositionEmbedding } from './layers/sinCosTable.js';
export { SinusoidalPositionEmbedding, type SinusoidalPositionEmbeddingConfig } from './layers/sinusoidalPositionEmbedding.js';
export { TokenEmbedding, type TokenEmbeddingConfig } from './layers/tokenEmbedding.js';
export { ModuleList } from './moduleList.js';
