import { readFile } from 'node:fs/promises';
import { parseConfig, TesseraError, tf } from '@tessera/core';
import { z } from 'zod';
import {
  type DecodedImage,
  type DecodeOptions,
  decodeError,
  decodeImage,
  type ImageInput,
  openImage,
  readImageBytes,
} from './decodeImage.js';
import { PIL_RESAMPLE, type ResampleFilter, type RgbImage, resample } from './resample.js';

/** OpenAI CLIP's normalisation constants (Hugging Face CLIPImageProcessor defaults). */
export const CLIP_MEAN: [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
/** OpenAI CLIP's per-channel (R, G, B) standard deviations of pixels rescaled to [0, 1]: CLIPImageProcessor's `image_std` default. */
export const CLIP_STD: [number, number, number] = [0.26862954, 0.26130258, 0.27577711];

const positiveInt = z.number().int().positive();
const triple = z.tuple([z.number(), z.number(), z.number()]);

/**
 * The keys of a Hugging Face `preprocessor_config.json` for CLIP/ViT-style processors, with
 * CLIP's defaults. Keys that change the output but are not implemented (`crop_pct`, `do_pad`...)
 * are rejected rather than silently ignored; purely descriptive ones are accepted.
 */
export const ImageProcessorConfigSchema = z
  .object({
    do_resize: z.boolean().default(true),
    /** An integer (legacy) means shortest_edge, as CLIPImageProcessor reads it. */
    size: z
      .union([
        positiveInt.transform((n) => ({ shortest_edge: n })),
        z.object({ shortest_edge: positiveInt }).strict(),
        z.object({ height: positiveInt, width: positiveInt }).strict(),
      ])
      .default({ shortest_edge: 224 }),
    /** Pillow filter code: 0 nearest, 1 lanczos, 2 bilinear, 3 bicubic, 4 box, 5 hamming. */
    resample: z.number().int().min(0).max(5).default(PIL_RESAMPLE.bicubic),
    do_center_crop: z.boolean().default(true),
    crop_size: z
      .union([positiveInt.transform((n) => ({ height: n, width: n })), z.object({ height: positiveInt, width: positiveInt }).strict()])
      .default({ height: 224, width: 224 }),
    do_rescale: z.boolean().default(true),
    rescale_factor: z
      .number()
      .positive()
      .default(1 / 255),
    do_normalize: z.boolean().default(true),
    image_mean: z.union([z.number().transform((v) => [v, v, v] as [number, number, number]), triple]).default(CLIP_MEAN),
    image_std: z.union([z.number().transform((v) => [v, v, v] as [number, number, number]), triple]).default(CLIP_STD),
    do_convert_rgb: z.literal(true).default(true),
    image_processor_type: z.string().optional(),
    feature_extractor_type: z.string().optional(),
    processor_class: z.string().optional(),
  })
  .strict();

/** A `preprocessor_config.json` object as Hugging Face writes it (CLIPImageProcessor keys); unknown or unsupported keys are E_CONFIG. */
export type ImageProcessorConfigInput = z.input<typeof ImageProcessorConfigSchema>;
/**
 * A validated preprocessor config with CLIP's defaults filled in (224 px, bicubic, 1/255,
 * CLIP mean/std): `size` and `crop_size` as objects, `image_mean` and `image_std` as triples.
 */
export type ImageProcessorConfig = z.output<typeof ImageProcessorConfigSchema>;

/** Options of `ImageProcessor` that are not in the Hugging Face config: how inputs are decoded and resized. */
export interface ImageProcessorOptions extends DecodeOptions {
  /**
   * 'pillow' (default): decode with sharp, then resize with our transcription of Pillow's
   * resampler: bit-exact with Hugging Face's PIL pipeline. 'libvips': decode, resize and crop
   * inside sharp (threaded, several times faster); it matches PIL to about 0.2/255 on average
   * when shrinking by up to ~3x and drifts to ~1.5/255 at 8-12x; images that would be enlarged
   * or padded, SVG and raw pixels still take the Pillow path.
   */
  resizeEngine?: 'pillow' | 'libvips';
}

const SHARP_KERNEL: Partial<Record<ResampleFilter, 'nearest' | 'linear' | 'cubic' | 'lanczos3'>> = {
  nearest: 'nearest',
  bilinear: 'linear',
  bicubic: 'cubic',
  lanczos: 'lanczos3',
};

/** Output layout of `ImageProcessor.process`, `preprocess` and `toFloat`. */
export interface ProcessOptions {
  /** 'channels_first' (NCHW, default) or 'channels_last' (NHWC), as Hugging Face's `data_format`. */
  dataFormat?: 'channels_first' | 'channels_last';
}

const FILTER_NAMES = Object.fromEntries(Object.entries(PIL_RESAMPLE).map(([k, v]) => [v, k])) as Record<number, ResampleFilter>;

/**
 * Hugging Face-compatible image preprocessing: resize (Pillow's algorithm, bit-exact), center
 * crop (zero padding when the crop is larger), rescale, normalize, to float32 tensors.
 *
 * ```ts
 * const processor = await ImageProcessor.fromFile('preprocessor_config.json');
 * const pixels = await processor.process(['a.jpg', 'b.png']); // [2, 3, 224, 224]
 * ```
 */
export class ImageProcessor {
  readonly config: ImageProcessorConfig;
  readonly decodeOptions: DecodeOptions;
  readonly resizeEngine: 'pillow' | 'libvips';
  /** value[c][byte] = normalize(rescale(byte)) in float32, as numpy computes it. */
  private readonly lut: Float32Array[];

  constructor(config: ImageProcessorConfigInput = {}, options: ImageProcessorOptions = {}) {
    this.config = parseConfig(ImageProcessorConfigSchema, config, 'image processor config');
    const { resizeEngine = 'pillow', ...decodeOptions } = options;
    this.decodeOptions = decodeOptions;
    this.resizeEngine = resizeEngine;
    const { do_rescale, rescale_factor, do_normalize, image_mean, image_std } = this.config;
    this.lut = [0, 1, 2].map((c) => {
      const mean = Math.fround(image_mean[c] as number);
      const std = Math.fround(image_std[c] as number);
      return Float32Array.from({ length: 256 }, (_, v) => {
        let x = do_rescale ? Math.fround(v * rescale_factor) : v;
        if (do_normalize) x = Math.fround(Math.fround(x - mean) / std);
        return x;
      });
    });
  }

  /** From a parsed `preprocessor_config.json` object. */
  static fromConfig(config: unknown, options: ImageProcessorOptions = {}): ImageProcessor {
    return new ImageProcessor(parseConfig(ImageProcessorConfigSchema, config, 'image processor config'), options);
  }

  /** From a `preprocessor_config.json` file. */
  static async fromFile(path: string, options: ImageProcessorOptions = {}): Promise<ImageProcessor> {
    let json: unknown;
    try {
      json = JSON.parse(await readFile(path, 'utf8'));
    } catch (cause) {
      throw new TesseraError('E_CONFIG', `cannot read image processor config ${path}: ${(cause as Error).message}`, {
        details: { path },
        cause,
      });
    }
    return ImageProcessor.fromConfig(json, options);
  }

  /** Output [height, width] of one image. */
  get outputSize(): [number, number] {
    const { do_center_crop, crop_size, do_resize, size } = this.config;
    if (do_center_crop) return [crop_size.height, crop_size.width];
    if (do_resize && 'height' in size) return [size.height, size.width];
    throw new TesseraError('E_CONFIG', 'output size depends on each image: enable do_center_crop or a fixed size {height, width} to batch');
  }

  /** Resize target (width, height) for an image of the given size, as transformers computes it. */
  resizeTarget(width: number, height: number): [number, number] {
    const { size } = this.config;
    if ('height' in size) return [size.width, size.height];
    const s = size.shortest_edge;
    return width <= height ? [s, Math.trunc((s * height) / width)] : [Math.trunc((s * width) / height), s];
  }

  /** Decodes with this processor's options (SVG rasterised near the resize target). */
  decode(input: ImageInput): Promise<DecodedImage> {
    const { do_resize, size } = this.config;
    const svgShortestEdge = do_resize ? ('height' in size ? Math.max(size.height, size.width) : size.shortest_edge) : undefined;
    return decodeImage(input, { svgShortestEdge, ...this.decodeOptions });
  }

  /** Resize and center crop of decoded RGB pixels, still 8-bit HWC. */
  transform(image: RgbImage): RgbImage {
    const { do_resize, resample: filter, do_center_crop, crop_size } = this.config;
    if (!do_resize) return do_center_crop ? centerCrop(image, crop_size.height, crop_size.width) : image;
    const [w, h] = this.resizeTarget(image.width, image.height);
    const top = Math.floor((h - crop_size.height) / 2);
    const left = Math.floor((w - crop_size.width) / 2);
    const kernel = FILTER_NAMES[filter] as ResampleFilter;
    if (do_center_crop && top >= 0 && left >= 0) {
      // Resize only the pixels the crop keeps: same values, less work.
      return resample(image, w, h, kernel, [left, top, left + crop_size.width, top + crop_size.height]);
    }
    const out = resample(image, w, h, kernel);
    return do_center_crop ? centerCrop(out, crop_size.height, crop_size.width) : out;
  }

  /** Decode + resize + crop inside sharp, when the image only shrinks; null to take the Pillow path. */
  private async libvipsTransform(input: string | Uint8Array): Promise<RgbImage | null> {
    const { do_resize, do_center_crop, crop_size, resample: filter } = this.config;
    const kernel = SHARP_KERNEL[FILTER_NAMES[filter] as ResampleFilter];
    if (!do_resize || !kernel) return null;
    const { bytes, source } = await readImageBytes(input, this.decodeOptions.name);
    const opened = await openImage(bytes, source, this.decodeOptions);
    const [w, h] = this.resizeTarget(opened.width, opened.height);
    const crop = do_center_crop ? crop_size : { height: h, width: w };
    const top = Math.floor((h - crop.height) / 2);
    const left = Math.floor((w - crop.width) / 2);
    if (opened.format === 'svg' || w > opened.width || h > opened.height || top < 0 || left < 0) return null;
    const bg = this.decodeOptions.background ?? [255, 255, 255];
    try {
      const { data, info } = await opened.pipeline
        .flatten({ background: { r: bg[0], g: bg[1], b: bg[2] } })
        .toColourspace('srgb')
        .resize(w, h, { fit: 'fill', kernel, fastShrinkOnLoad: false })
        .extract({ left, top, width: crop.width, height: crop.height })
        .raw({ depth: 'uchar' })
        .toBuffer({ resolveWithObject: true });
      return {
        data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
        width: info.width,
        height: info.height,
        channels: info.channels,
      };
    } catch (cause) {
      throw decodeError(cause, source, opened.format, this.decodeOptions.maxPixels);
    }
  }

  /** 8-bit HWC pixels -> float32 CHW (or HWC), rescaled and normalized. */
  toFloat(image: RgbImage, dataFormat: ProcessOptions['dataFormat'] = 'channels_first', out?: Float32Array): Float32Array {
    const { data, width, height } = image;
    const plane = width * height;
    const result = out ?? new Float32Array(plane * 3);
    const [l0, l1, l2] = this.lut as [Float32Array, Float32Array, Float32Array];
    if (dataFormat === 'channels_last') {
      for (let i = 0; i < plane * 3; i += 3) {
        result[i] = l0[data[i] as number] as number;
        result[i + 1] = l1[data[i + 1] as number] as number;
        result[i + 2] = l2[data[i + 2] as number] as number;
      }
    } else {
      for (let p = 0, i = 0; p < plane; p++, i += 3) {
        result[p] = l0[data[i] as number] as number;
        result[plane + p] = l1[data[i + 1] as number] as number;
        result[2 * plane + p] = l2[data[i + 2] as number] as number;
      }
    }
    return result;
  }

  /** One input to float32 pixel values [3, H, W] (or [H, W, 3]). */
  async preprocess(input: ImageInput, options: ProcessOptions = {}): Promise<{ data: Float32Array; height: number; width: number }> {
    const fast =
      this.resizeEngine === 'libvips' && (typeof input === 'string' || input instanceof Uint8Array)
        ? await this.libvipsTransform(input)
        : null;
    const image = fast ?? this.transform(await this.decode(input));
    return { data: this.toFloat(image, options.dataFormat), height: image.height, width: image.width };
  }

  /**
   * Inputs (paths, encoded buffers, raw pixels) to one float32 tensor `[B, 3, H, W]`, or
   * `[B, H, W, 3]` with `dataFormat: 'channels_last'`. A bad input throws its TesseraError;
   * to skip and count bad items instead, `preprocess` them one by one and catch by code.
   */
  async process(inputs: ImageInput | ImageInput[], options: ProcessOptions = {}): Promise<tf.Tensor4D> {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    const items = await Promise.all(list.map((input) => this.preprocess(input, options)));
    const first = items[0];
    if (!first) throw new TesseraError('E_INPUT', 'ImageProcessor.process: no inputs');
    if (items.some((x) => x.height !== first.height || x.width !== first.width)) {
      throw new TesseraError('E_INPUT', 'images came out in different sizes; enable do_center_crop or a fixed size to batch them');
    }
    const per = first.data.length;
    const all = new Float32Array(per * items.length);
    for (const [i, x] of items.entries()) all.set(x.data, i * per);
    const shape: [number, number, number, number] =
      options.dataFormat === 'channels_last' ? [items.length, first.height, first.width, 3] : [items.length, 3, first.height, first.width];
    return tf.tensor4d(all, shape);
  }
}

/**
 * transformers' `center_crop`: top = (H - h) // 2, left = (W - w) // 2 (floor division); a crop
 * larger than the image pads it with zeros, centred with the extra pixel at the end.
 */
export function centerCrop(image: RgbImage, cropHeight: number, cropWidth: number): RgbImage {
  const { data, width: ow, height: oh, channels: ch } = image;
  if (cropHeight === oh && cropWidth === ow) return image;
  const out = new Uint8Array(cropHeight * cropWidth * ch);
  const topPad = Math.max(0, Math.ceil((cropHeight - oh) / 2));
  const leftPad = Math.max(0, Math.ceil((cropWidth - ow) / 2));
  const top = Math.floor((oh - cropHeight) / 2) + topPad;
  const left = Math.floor((ow - cropWidth) / 2) + leftPad;
  for (let y = 0; y < cropHeight; y++) {
    const sy = y + top - topPad;
    if (sy < 0 || sy >= oh) continue;
    const x0 = Math.max(0, leftPad - left);
    const x1 = Math.min(cropWidth, ow + leftPad - left);
    if (x1 <= x0) continue;
    const src = (sy * ow + (x0 + left - leftPad)) * ch;
    out.set(data.subarray(src, src + (x1 - x0) * ch), (y * cropWidth + x0) * ch);
  }
  return { data: out, width: cropWidth, height: cropHeight, channels: ch };
}
