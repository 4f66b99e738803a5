// @tessera/patches: image and video input — decode with sharp, Hugging Face-style preprocessing,
// augmentation, patchify and patch embedding, ffmpeg frame sampling.
export { patchify, unpatchify } from '@tessera/core';
export { PatchEmbedding, type PatchEmbeddingForwardOptions, type PatchEmbeddingOptions } from './patchEmbedding.js';
export { bicubicMatrix, interpolateGrid, sincos1d, sincos2d, temporalPositionEmbedding } from './positionEmbedding.js';
