/**
 * @tessera/patches: image and video input — decode with sharp, Hugging Face-style preprocessing,
 * augmentation, patchify, ffmpeg frame sampling.
 *
 * @module @tessera/patches
 */
export { patchify, unpatchify } from '@tessera/core';
export {
  type AugmentConfig,
  type AugmentParams,
  type CropBox,
  flipHorizontal,
  ImageAugmenter,
  randomResizedCropBox,
  resizedCrop,
} from './augment.js';
export { adjustBrightness, adjustContrast, adjustHue, adjustSaturation } from './colorJitter.js';
export {
  DEFAULT_MAX_PIXELS,
  type DecodedImage,
  type DecodeOptions,
  decodeImage,
  type ImageInput,
  type RawImage,
  rawToRgb,
} from './decodeImage.js';
export { INPUT_ERROR_CODES, type InputErrorCode } from './errors.js';
export { type FfmpegResult, findFfmpeg, type RunFfmpegOptions, runFfmpeg } from './ffmpeg.js';
export {
  CLIP_MEAN,
  CLIP_STD,
  centerCrop,
  ImageProcessor,
  type ImageProcessorConfig,
  type ImageProcessorConfigInput,
  ImageProcessorConfigSchema,
  type ImageProcessorOptions,
  type ProcessOptions,
} from './imageProcessor.js';
export { type ProbeOptions, probeVideo, type VideoInfo } from './probeVideo.js';
export { PIL_RESAMPLE, type ResampleFilter, type RgbImage, resample } from './resample.js';
export {
  frameIndices,
  type SampledFrameImages,
  type SampledFrames,
  type SampleFramesOptions,
  sampleFrameImages,
  sampleFrames,
} from './sampleFrames.js';
