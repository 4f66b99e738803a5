import { readFile, stat } from 'node:fs/promises';
import { TesseraError } from '@tessera/core';
import sharp, { type Metadata, type Sharp } from 'sharp';
import { INPUT_ERROR_CODES, inputError } from './errors.js';
import { headerSize } from './headerSize.js';
import type { RgbImage } from './resample.js';
import { sniffFormat, svgExternalReferences } from './sniffFormat.js';

/** Pixels already decoded (a video frame, a canvas): interleaved 8-bit, 1-4 channels. */
export interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
  /** 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA. */
  channels: number;
}

/** What `decodeImage` accepts: a file path, encoded bytes, or raw pixels. */
export type ImageInput = string | Uint8Array | RawImage;

/** Options of `decodeImage` (and of `ImageProcessor`, which decodes with them). */
export interface DecodeOptions {
  /** Colour that transparent pixels are flattened onto, [r, g, b] 0-255 (default white). */
  background?: [number, number, number];
  /**
   * Refuse images with more pixels than this, from the header, before decoding (default
   * 178,956,970: Pillow's DecompressionBombError threshold).
   */
  maxPixels?: number;
  /** Rasterise SVG so that its shorter side has this many pixels (default: its own size). */
  svgShortestEdge?: number;
  /** A name for Buffer inputs in error messages (default '<buffer>'). */
  name?: string;
}

/** Decoded 8-bit RGB pixels, EXIF orientation applied, alpha flattened. */
export interface DecodedImage extends RgbImage {
  channels: 3;
  /** The container format ('jpeg', 'png', ... or 'raw'). */
  format: string;
  /** The path, or the name given to a buffer. */
  source: string;
}

/**
 * The default `maxPixels` of `decodeImage`: 178,956,970 pixels, Pillow's DecompressionBombError
 * threshold (twice `Image.MAX_IMAGE_PIXELS`). Larger images are E_IMAGE_TOO_LARGE.
 */
export const DEFAULT_MAX_PIXELS = 178_956_970;
const WHITE: [number, number, number] = [255, 255, 255];

function isRaw(input: ImageInput): input is RawImage {
  return typeof input === 'object' && !(input instanceof Uint8Array);
}

/** Reads a path (or takes a buffer), refusing missing and empty inputs. */
export async function readImageBytes(input: string | Uint8Array, name = '<buffer>'): Promise<{ bytes: Uint8Array; source: string }> {
  if (typeof input !== 'string') {
    if (input.byteLength === 0) throw inputError(INPUT_ERROR_CODES.empty, name, 'the buffer is empty (0 bytes)');
    return { bytes: input, source: name };
  }
  let size: number;
  try {
    const info = await stat(input);
    if (!info.isFile()) throw new Error('not a regular file');
    size = info.size;
  } catch (cause) {
    throw inputError(INPUT_ERROR_CODES.notFound, input, 'no such file (check the path and that it is a regular file)', cause);
  }
  if (size === 0) throw inputError(INPUT_ERROR_CODES.empty, input, 'the file is empty (0 bytes); re-download or remove it');
  return { bytes: await readFile(input), source: input };
}

/**
 * Opens encoded image bytes with sharp after checking, without decoding pixels, that the
 * format is one we decode, that the pixel count is within `maxPixels`, and that an SVG names
 * no external resources. Returns a sharp pipeline and the upright (EXIF-oriented) size.
 */
export async function openImage(
  bytes: Uint8Array,
  source: string,
  options: DecodeOptions = {},
): Promise<{ pipeline: Sharp; width: number; height: number; format: string }> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const sniffed = sniffFormat(bytes);
  if (sniffed.kind === 'unknown') {
    throw inputError(INPUT_ERROR_CODES.unrecognized, source, 'not an image in any known format (JPEG, PNG, WebP, GIF, TIFF, AVIF, SVG)');
  }
  if (sniffed.kind === 'unsupported') {
    throw inputError(INPUT_ERROR_CODES.unsupported, source, `${sniffed.format} is not supported; convert it to PNG or JPEG`);
  }
  const format = sniffed.format;
  if (format === 'svg') {
    const refs = svgExternalReferences(Buffer.from(bytes).toString('utf8'));
    if (refs.length > 0) {
      throw inputError(
        INPUT_ERROR_CODES.externalReference,
        source,
        `SVG references external resources (${refs.slice(0, 3).join(', ')}); we never read or fetch them: inline them as data: URIs`,
      );
    }
  }
  // Bytes, never a path: librsvg then has no base directory to resolve relative references from.
  const common = { limitInputPixels: false as const, failOn: 'truncated' as const };
  let size = format === 'svg' ? null : headerSize(bytes, format);
  let density: number | undefined;
  if (!size) {
    let meta: Metadata;
    try {
      meta = await sharp(bytes, common).metadata();
    } catch (cause) {
      throw inputError(
        INPUT_ERROR_CODES.corrupt,
        source,
        `cannot read the ${format} header (${(cause as Error).message.split('\n')[0]})`,
        cause,
      );
    }
    const width = meta.autoOrient?.width ?? meta.width;
    const height = meta.autoOrient?.height ?? meta.height;
    if (!width || !height) throw inputError(INPUT_ERROR_CODES.corrupt, source, `the ${format} header gives no image size`);
    size = { width, height };
    if (format === 'svg' && options.svgShortestEdge) {
      const scale = options.svgShortestEdge / Math.min(width, height);
      density = (meta.density ?? 72) * scale;
      size = { width: Math.round(width * scale), height: Math.round(height * scale) };
    }
  }
  const { width, height } = size;
  if (width * height > maxPixels) {
    throw inputError(
      INPUT_ERROR_CODES.tooLarge,
      source,
      `${width}x${height} = ${width * height} pixels exceeds maxPixels ${maxPixels} (possible decompression bomb); refused before decoding`,
    );
  }
  const pipeline = sharp(bytes, { ...common, limitInputPixels: maxPixels, ...(density ? { density } : {}) }).autoOrient();
  return { pipeline, width, height, format };
}

/** Maps a sharp failure while decoding to our codes. */
export function decodeError(cause: unknown, source: string, format: string, maxPixels = DEFAULT_MAX_PIXELS): TesseraError {
  if (cause instanceof TesseraError) return cause;
  const first = (cause as Error).message.split('\n')[0];
  if (/pixel limit/i.test(first ?? '')) {
    return inputError(
      INPUT_ERROR_CODES.tooLarge,
      source,
      `more than maxPixels ${maxPixels} pixels (possible decompression bomb); refused before decoding`,
      cause,
    );
  }
  return inputError(
    INPUT_ERROR_CODES.corrupt,
    source,
    `the ${format} data is corrupt or truncated (${first}); re-encode or remove the file`,
    cause,
  );
}

/**
 * Decodes an image to 8-bit RGB: JPEG, PNG (8/16-bit, palette, alpha), WebP, GIF (first
 * frame), TIFF, AVIF, and SVG (rasterised, external references refused). Grayscale and CMYK
 * become RGB, alpha is flattened onto `background`, EXIF orientation is applied.
 * Bad input throws a TesseraError with a code from `INPUT_ERROR_CODES` and the path.
 */
export async function decodeImage(input: ImageInput, options: DecodeOptions = {}): Promise<DecodedImage> {
  const background = options.background ?? WHITE;
  if (isRaw(input)) return { ...rawToRgb(input, background), format: 'raw', source: options.name ?? '<raw>' };
  const { bytes, source } = await readImageBytes(input, options.name);
  const opened = await openImage(bytes, source, options);
  try {
    // RGB, or RGBA when there is alpha: flattened below with Pillow's integer arithmetic.
    const { data, info } = await opened.pipeline.toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    const pixels = { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
    return { ...rawToRgb({ ...pixels, channels: info.channels }, background), format: opened.format, source };
  } catch (cause) {
    throw decodeError(cause, source, opened.format, options.maxPixels);
  }
}

/**
 * Pillow's `Image.alpha_composite` of one channel over an opaque background (AlphaComposite.c:
 * 7 extra bits of precision, rounded division by 255), so flattened images match PIL exactly.
 */
function compositeOver(value: number, alpha: number, background: number): number {
  const tmp = (value * alpha + background * (255 - alpha)) * 128 + (0x80 << 7);
  return (((tmp >> 8) + tmp) >> 8) >> 7;
}

/** Gray, gray+alpha, RGB or RGBA pixels to RGB, alpha flattened onto `background` as Pillow does. */
export function rawToRgb(image: RawImage, background: [number, number, number] = WHITE): RgbImage & { channels: 3 } {
  const { data, width, height, channels } = image;
  if (![1, 2, 3, 4].includes(channels) || data.length !== width * height * channels) {
    throw new TesseraError('E_INPUT', `raw image: ${data.length} bytes do not hold ${width}x${height}x${channels} pixels (channels 1-4)`);
  }
  if (channels === 3) return { data, width, height, channels: 3 };
  const out = new Uint8Array(width * height * 3);
  const hasAlpha = channels === 2 || channels === 4;
  const colour = channels >= 3 ? 3 : 1;
  for (let i = 0, j = 0; i < data.length; i += channels, j += 3) {
    const alpha = hasAlpha ? (data[i + channels - 1] as number) : 255;
    for (let k = 0; k < 3; k++) {
      const v = data[i + (colour === 3 ? k : 0)] as number;
      out[j + k] = alpha === 255 ? v : compositeOver(v, alpha, background[k] as number);
    }
  }
  return { data: out, width, height, channels: 3 };
}
