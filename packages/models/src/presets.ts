import type { ModelConfigInput } from './config.js';

/**
 * Built-in model configs. `text.vocabSize` is a placeholder that `createModel` replaces with the
 * tokenizer's size when one is given. Tiny presets fit 32x32 images and train in minutes on a CPU.
 */
export const MODEL_PRESETS: Record<string, ModelConfigInput> = {
  'clip-tiny': {
    type: 'clip',
    name: 'clip-tiny',
    embedDim: 128,
    vision: { imageSize: 32, patchSize: 8, dim: 128, numHeads: 4, numLayers: 3, mlpDim: 512, pooling: 'mean' },
    text: { vocabSize: 8000, maxPositions: 32, dim: 128, numHeads: 4, numLayers: 2, mlpDim: 512, pooling: 'mean' },
  },
  /**
   * clip-tiny in the layout of OpenAI CLIP, so `tessera export --format hf` writes it as a
   * Hugging Face CLIPModel: the class token pooled after pre_layrnorm, a bias-free patch conv,
   * a causal text tower pooled at its end token ([SEP], filled from the tokenizer).
   */
  'clip-tiny-hf': {
    type: 'clip',
    name: 'clip-tiny-hf',
    embedDim: 128,
    vision: {
      imageSize: 32,
      patchSize: 8,
      dim: 128,
      numHeads: 4,
      numLayers: 3,
      mlpDim: 512,
      pooling: 'cls',
      preNorm: true,
      patchBias: false,
    },
    text: { vocabSize: 8000, maxPositions: 32, dim: 128, numHeads: 4, numLayers: 2, mlpDim: 512, causal: true, pooling: 'eos' },
  },
  'clip-small': {
    type: 'clip',
    name: 'clip-small',
    embedDim: 256,
    vision: { imageSize: 64, patchSize: 8, dim: 256, numHeads: 4, numLayers: 6, mlpDim: 1024, pooling: 'cls' },
    text: { vocabSize: 16000, maxPositions: 64, dim: 256, numHeads: 4, numLayers: 4, mlpDim: 1024, pooling: 'mean' },
  },
  'albef-tiny': {
    type: 'albef',
    name: 'albef-tiny',
    embedDim: 128,
    vision: { imageSize: 32, patchSize: 8, dim: 128, numHeads: 4, numLayers: 3, mlpDim: 512, pooling: 'cls' },
    text: { vocabSize: 8000, maxPositions: 32, dim: 128, numHeads: 4, numLayers: 2, mlpDim: 512, pooling: 'cls' },
    fusion: { numLayers: 2, numHeads: 4, mlpDim: 512 },
  },
};
