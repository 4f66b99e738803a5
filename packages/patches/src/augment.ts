import type { SeededRandom } from '@tessera/core';
import { TesseraError } from '@tessera/core';
import { adjustBrightness, adjustContrast, adjustHue, adjustSaturation } from './colorJitter.js';
import type { ImageInput } from './decodeImage.js';
import type { ImageProcessor } from './imageProcessor.js';
import { type ResampleFilter, type RgbImage, resample } from './resample.js';

/** A crop box in pixels: top row i, left column j, height h, width w (torchvision's order). */
export interface CropBox {
  i: number;
  j: number;
  h: number;
  w: number;
}

/** Python's round(): half to even. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * torchvision's `RandomResizedCrop.get_params`: up to 10 tries of a random area fraction in
 * `scale` and a log-uniform aspect ratio in `ratio`; then a central crop clamped to `ratio`.
 */
export function randomResizedCropBox(
  width: number,
  height: number,
  rng: SeededRandom,
  scale: [number, number] = [0.08, 1],
  ratio: [number, number] = [3 / 4, 4 / 3],
): CropBox {
  const area = width * height;
  const [logLo, logHi] = [Math.log(ratio[0]), Math.log(ratio[1])];
  for (let attempt = 0; attempt < 10; attempt++) {
    const targetArea = area * rng.uniform(scale[0], scale[1]);
    const aspect = Math.exp(rng.uniform(logLo, logHi));
    const w = roundHalfEven(Math.sqrt(targetArea * aspect));
    const h = roundHalfEven(Math.sqrt(targetArea / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      return { i: rng.int(height - h + 1), j: rng.int(width - w + 1), h, w };
    }
  }
  const inRatio = width / height;
  let w = width;
  let h = height;
  if (inRatio < Math.min(...ratio)) h = roundHalfEven(w / Math.min(...ratio));
  else if (inRatio > Math.max(...ratio)) w = roundHalfEven(h * Math.max(...ratio));
  return { i: Math.floor((height - h) / 2), j: Math.floor((width - w) / 2), h, w };
}

/** Crops `box` then resizes it to [height, width] (torchvision's `resized_crop` on PIL images). */
export function resizedCrop(image: RgbImage, box: CropBox, size: [number, number], filter: ResampleFilter): RgbImage {
  const { data, width, channels: ch } = image;
  const crop = new Uint8Array(box.w * box.h * ch);
  for (let y = 0; y < box.h; y++) {
    const src = ((box.i + y) * width + box.j) * ch;
    crop.set(data.subarray(src, src + box.w * ch), y * box.w * ch);
  }
  return resample({ data: crop, width: box.w, height: box.h, channels: ch }, size[1], size[0], filter);
}

/** Mirrors left and right. */
export function flipHorizontal(image: RgbImage): RgbImage {
  const { data, width, height, channels: ch } = image;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const src = (y * width + x) * ch;
      out.set(data.subarray(src, src + ch), (y * width + (width - 1 - x)) * ch);
    }
  }
  return { data: out, width, height, channels: ch };
}

/**
 * Options of `ImageAugmenter`; an augmentation whose key is absent is off. A negative jitter
 * strength, a hue above 0.5 or a flip probability outside [0, 1] is E_CONFIG.
 */
export interface AugmentConfig {
  /** torchvision RandomResizedCrop; without it, the processor's resize + center crop is used. */
  randomResizedCrop?: { size: number | [number, number]; scale?: [number, number]; ratio?: [number, number]; resample?: ResampleFilter };
  /**
   * Flip with probability `p` (default 0.5), except when the caption matches `keepIfCaptionMatches`
   * (default /\b(left|right)\b/i: flipping would make "a dog on the left" false). null disables the check.
   */
  horizontalFlip?: { p?: number; keepIfCaptionMatches?: RegExp | null };
  /** torchvision ColorJitter: factors uniform in [max(0, 1 - x), 1 + x]; hue shift in [-hue, hue], hue <= 0.5. */
  colorJitter?: { brightness?: number; contrast?: number; saturation?: number; hue?: number };
}

/** What an augmentation did, for logs and for reproducing one sample. */
export interface AugmentParams {
  crop: CropBox | null;
  flipped: boolean;
  /** Colour operations in the order applied, with their factors. */
  jitter: { op: 'brightness' | 'contrast' | 'saturation' | 'hue'; factor: number }[];
}

/**
 * Seeded training augmentation on top of an ImageProcessor (which decodes, and supplies
 * rescale/normalize): random resized crop, horizontal flip (caption-aware), colour jitter.
 * Random draws, in order: crop box, flip, jitter order and factors, all from the `rng` passed
 * in, so a run with the same seed sees the same samples.
 */
export class ImageAugmenter {
  readonly config: AugmentConfig;
  readonly processor: ImageProcessor;

  constructor(processor: ImageProcessor, config: AugmentConfig) {
    const j = config.colorJitter ?? {};
    for (const [name, value] of Object.entries(j)) {
      if (!(value >= 0) || (name === 'hue' && value > 0.5)) {
        throw new TesseraError('E_CONFIG', `colorJitter.${name} must be >= 0${name === 'hue' ? ' and <= 0.5' : ''}, got ${value}`);
      }
    }
    const p = config.horizontalFlip?.p ?? 0.5;
    if (!(p >= 0 && p <= 1)) throw new TesseraError('E_CONFIG', `horizontalFlip.p must be in [0, 1], got ${p}`);
    this.processor = processor;
    this.config = config;
  }

  /** Augments decoded 8-bit RGB pixels and returns them as float32 CHW values, with the size and the drawn parameters. */
  augmentImage(
    image: RgbImage,
    rng: SeededRandom,
    caption?: string,
  ): { pixels: Float32Array; height: number; width: number; params: AugmentParams } {
    const { randomResizedCrop: rrc, horizontalFlip, colorJitter } = this.config;
    let out = image;
    let crop: CropBox | null = null;
    if (rrc) {
      const size: [number, number] = typeof rrc.size === 'number' ? [rrc.size, rrc.size] : rrc.size;
      crop = randomResizedCropBox(image.width, image.height, rng, rrc.scale, rrc.ratio);
      out = resizedCrop(image, crop, size, rrc.resample ?? 'bicubic');
    } else {
      out = this.processor.transform(image);
    }
    let flipped = false;
    if (horizontalFlip) {
      const keep = horizontalFlip.keepIfCaptionMatches === undefined ? /\b(left|right)\b/i : horizontalFlip.keepIfCaptionMatches;
      // Draw even when the caption vetoes, so one caption does not shift every later random draw.
      const coin = rng.bernoulli(horizontalFlip.p ?? 0.5);
      flipped = coin && !(caption !== undefined && keep?.test(caption));
      if (flipped) out = flipHorizontal(out);
    }
    const jitter: AugmentParams['jitter'] = [];
    if (!colorJitter)
      return { pixels: this.processor.toFloat(out), height: out.height, width: out.width, params: { crop, flipped, jitter } };
    const order = rng.permutation(4);
    const ops = ['brightness', 'contrast', 'saturation', 'hue'] as const;
    const factors = ops.map((op) => {
      const x = colorJitter[op] ?? 0;
      if (x === 0) return null;
      return op === 'hue' ? rng.uniform(-x, x) : rng.uniform(Math.max(0, 1 - x), 1 + x);
    });
    const { do_rescale, rescale_factor, do_normalize, image_mean, image_std } = this.processor.config;
    // The jitter ops work on [0, 1] (torchvision's float images); without do_rescale the
    // result goes back to 0..255, the scale `toFloat` gives the un-jittered path.
    const unit = do_rescale ? rescale_factor : 1 / 255;
    const back = do_rescale ? 1 : 255;
    const hwc = Float32Array.from(out.data, (v) => v * unit);
    for (const k of order) {
      const factor = factors[k];
      if (factor === null || factor === undefined) continue;
      const op = ops[k] as (typeof ops)[number];
      jitter.push({ op, factor });
      if (op === 'brightness') adjustBrightness(hwc, factor);
      else if (op === 'contrast') adjustContrast(hwc, factor);
      else if (op === 'saturation') adjustSaturation(hwc, factor);
      else adjustHue(hwc, factor);
    }
    const plane = out.width * out.height;
    const pixels = new Float32Array(plane * 3);
    for (let c = 0; c < 3; c++) {
      const mean = do_normalize ? (image_mean[c] as number) : 0;
      const std = do_normalize ? (image_std[c] as number) : 1;
      for (let p = 0; p < plane; p++) pixels[c * plane + p] = ((hwc[p * 3 + c] as number) * back - mean) / std;
    }
    return { pixels, height: out.height, width: out.width, params: { crop, flipped, jitter } };
  }

  /** Decodes (with the processor's options) and augments one input. */
  async augment(
    input: ImageInput,
    rng: SeededRandom,
    caption?: string,
  ): Promise<{ pixels: Float32Array; height: number; width: number; params: AugmentParams }> {
    return this.augmentImage(await this.processor.decode(input), rng, caption);
  }
}
