// @tessera/transformer: the shared cross-attention Transformer: layers, text/vision/video encoders, fusion encoder, decoder with KV cache, generation.

export { causalBias, MASKED, paddingBias } from './attention/masks.js';
export {
  type AttentionOptions,
  type AttentionOutput,
  type KeyValue,
  MultiHeadAttention,
  type MultiHeadAttentionConfig,
} from './attention/multiHeadAttention.js';
export { shapeError } from './checks.js';
export { INIT_SCHEMES, type InitScheme, initWeight } from './init.js';
export { ACTIVATIONS, type Activation, activation, gelu, geluTanh, quickGelu } from './layers/activations.js';
export { ClassToken, type ClassTokenConfig } from './layers/classToken.js';
export { Dropout, type DropoutConfig } from './layers/dropout.js';
export { LayerNorm, type LayerNormConfig } from './layers/layerNorm.js';
export { Linear, type LinearConfig } from './layers/linear.js';
export { MLP, type MLPConfig } from './layers/mlp.js';
export {
  LearnedPositionEmbedding,
  type LearnedPositionEmbeddingConfig,
  type PositionEmbedding,
  SinusoidalPositionEmbedding,
  type SinusoidalPositionEmbeddingConfig,
  sinusoidalTable,
} from './layers/positionEmbedding.js';
export { TokenEmbedding, type TokenEmbeddingConfig } from './layers/tokenEmbedding.js';
