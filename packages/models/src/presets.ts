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
