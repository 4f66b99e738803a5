import { inflateSync } from 'node:zlib';
import { TesseraError } from '@tessera/core';

/** An 8-bit RGBA image, row-major, 4 bytes per pixel. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** Codes as @tessera/patches uses them: a broken file, or a kind this small decoder does not read. */
function bad(message: string, code: 'E_IMAGE_CORRUPT' | 'E_IMAGE_UNSUPPORTED' = 'E_IMAGE_UNSUPPORTED'): TesseraError {
  return new TesseraError(code, `Cannot decode PNG: ${message}. Use a non-interlaced 8-bit (or palette/grey 1-8 bit) PNG.`);
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/**
 * Decodes the PNGs the emoji packages ship (RGBA, grey+alpha, palette with tRNS at 4 or 8
 * bits; non-interlaced) into RGBA, so the video generator needs no native image library.
 */
export function decodePng(bytes: Uint8Array): RgbaImage {
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) throw bad('not a PNG file');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let width = 0;
  let height = 0;
  let depth = 0;
  let colorType = 0;
  let palette: Uint8Array | null = null;
  let transparency: Uint8Array | null = null;
  const idat: Uint8Array[] = [];
  for (let at = 8; at + 8 <= bytes.length; ) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    const body = bytes.subarray(at + 8, at + 8 + length);
    if (body.length < length) throw bad('file is truncated', 'E_IMAGE_CORRUPT');
    if (type === 'IHDR') {
      width = view.getUint32(at + 8);
      height = view.getUint32(at + 12);
      depth = body[8] as number;
      colorType = body[9] as number;
      if (body[12] !== 0) throw bad('interlaced images are not supported');
    } else if (type === 'PLTE') palette = body;
    else if (type === 'tRNS') transparency = body;
    else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') break;
    at += 12 + length;
  }
  const channels = CHANNELS[colorType];
  if (width === 0 || height === 0 || channels === undefined) throw bad('missing or unknown IHDR');
  if (depth !== 8 && !((colorType === 0 || colorType === 3) && [1, 2, 4].includes(depth))) throw bad(`bit depth ${depth}`);
  if (colorType === 3 && palette === null) throw bad('palette image without PLTE');
  let raw: Uint8Array;
  try {
    raw = inflateSync(Buffer.concat(idat));
  } catch {
    throw bad('corrupt image data', 'E_IMAGE_CORRUPT');
  }
  const bitsPerPixel = channels * depth;
  const stride = Math.ceil((width * bitsPerPixel) / 8);
  const bpp = Math.max(1, bitsPerPixel / 8);
  if (raw.length < height * (stride + 1)) throw bad('image data is short', 'E_IMAGE_CORRUPT');
  // Undo the per-row filters in place, row by row.
  const rows = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)] as number;
    const src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const out = rows.subarray(y * stride, (y + 1) * stride);
    const prev = y > 0 ? rows.subarray((y - 1) * stride, y * stride) : null;
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? (out[i - bpp] as number) : 0;
      const b = prev ? (prev[i] as number) : 0;
      const c = prev && i >= bpp ? (prev[i - bpp] as number) : 0;
      const x = src[i] as number;
      let v: number;
      if (filter === 0) v = x;
      else if (filter === 1) v = x + a;
      else if (filter === 2) v = x + b;
      else if (filter === 3) v = x + ((a + b) >> 1);
      else if (filter === 4) v = x + paeth(a, b, c);
      else throw bad(`unknown row filter ${filter}`, 'E_IMAGE_CORRUPT');
      out[i] = v & 0xff;
    }
  }
  const data = new Uint8Array(width * height * 4);
  const sample = (row: Uint8Array, index: number): number => {
    if (depth === 8) return row[index] as number;
    const bit = index * depth;
    return ((row[bit >> 3] as number) >> (8 - depth - (bit & 7))) & ((1 << depth) - 1);
  };
  for (let y = 0; y < height; y++) {
    const row = rows.subarray(y * stride, (y + 1) * stride);
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      if (colorType === 3) {
        const p = sample(row, x);
        data[o] = palette![p * 3] ?? 0;
        data[o + 1] = palette![p * 3 + 1] ?? 0;
        data[o + 2] = palette![p * 3 + 2] ?? 0;
        data[o + 3] = transparency && p < transparency.length ? (transparency[p] as number) : 255;
      } else if (colorType === 0 || colorType === 4) {
        const g = colorType === 0 ? Math.round((sample(row, x) * 255) / ((1 << depth) - 1)) : (row[x * 2] as number);
        data[o] = g;
        data[o + 1] = g;
        data[o + 2] = g;
        data[o + 3] = colorType === 4 ? (row[x * 2 + 1] as number) : 255;
      } else {
        data[o] = row[x * channels] as number;
        data[o + 1] = row[x * channels + 1] as number;
        data[o + 2] = row[x * channels + 2] as number;
        data[o + 3] = channels === 4 ? (row[x * 4 + 3] as number) : 255;
      }
    }
  }
  return { width, height, data };
}
