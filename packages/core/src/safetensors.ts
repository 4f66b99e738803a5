import { readFile } from 'node:fs/promises';
import { TesseraError, writeFileAtomic } from '@tessera/base';

/**
 * The safetensors format (https://huggingface.co/docs/safetensors): an 8-byte little-endian
 * header length N, N bytes of JSON `{ name: { dtype, shape, data_offsets: [begin, end] },
 * __metadata__?: { string: string } }`, then raw little-endian tensor bytes, offsets relative
 * to the end of the header.
 */
export type SafetensorsDtype = 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'U8';

/**
 * A tensor's elements, row-major, by dtype: F32 Float32Array, F16 and BF16 Uint16Array (raw
 * bits), I64 BigInt64Array, I32 Int32Array, U8 Uint8Array.
 */
export type SafetensorsData = Float32Array | Uint16Array | BigInt64Array | Int32Array | Uint8Array;

/** One tensor of a safetensors file. */
export interface SafetensorsTensor {
  dtype: SafetensorsDtype;
  /** Dimensions, outermost first; [] for a scalar. */
  shape: number[];
  /** F16 and BF16 stay as raw bits in a Uint16Array; use `toFloat32` to widen. */
  data: SafetensorsData;
}

/** A parsed safetensors file: its tensors and its string metadata. */
export interface SafetensorsFile {
  /** Tensors by name (e.g. `encoder.layers.0.mlp.fc1.weight`). */
  tensors: Map<string, SafetensorsTensor>;
  /** The header's `__metadata__`; {} when it has none. */
  metadata: Record<string, string>;
}

/** Refuse headers larger than this: a lying length must not become a huge allocation. */
export const MAX_HEADER_BYTES = 100_000_000;

const BYTES_PER_ELEMENT: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, U8: 1 };

function fail(message: string, source: string): never {
  throw new TesseraError('E_SAFETENSORS', `${source}: ${message}`, { details: { source } });
}

function elementCount(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function isDtype(value: unknown): value is SafetensorsDtype {
  return typeof value === 'string' && value in BYTES_PER_ELEMENT;
}

function viewAs(dtype: SafetensorsDtype, bytes: Uint8Array): SafetensorsData {
  // Copy so that the typed array is aligned whatever the header length was
  // (and not Buffer#slice, which shares memory).
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  switch (dtype) {
    case 'F32':
      return new Float32Array(copy.buffer, 0, copy.byteLength / 4);
    case 'F16':
    case 'BF16':
      return new Uint16Array(copy.buffer, 0, copy.byteLength / 2);
    case 'I64':
      return new BigInt64Array(copy.buffer, 0, copy.byteLength / 8);
    case 'I32':
      return new Int32Array(copy.buffer, 0, copy.byteLength / 4);
    case 'U8':
      return copy;
  }
}

/** Parses a safetensors buffer. Every inconsistency is a TesseraError('E_SAFETENSORS'). */
export function parseSafetensors(buffer: Uint8Array, source = 'safetensors buffer'): SafetensorsFile {
  if (buffer.byteLength < 8) fail(`file is ${buffer.byteLength} bytes, shorter than the 8-byte header length`, source);
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(MAX_HEADER_BYTES)) {
    fail(`header claims ${headerLength} bytes, over the ${MAX_HEADER_BYTES}-byte limit`, source);
  }
  const n = Number(headerLength);
  if (8 + n > buffer.byteLength)
    fail(`header claims ${n} bytes but the file has ${buffer.byteLength - 8} after the length (truncated?)`, source);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(buffer.subarray(8, 8 + n)));
  } catch (error) {
    fail(`header is not valid UTF-8 JSON (${(error as Error).message})`, source);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header is not a JSON object', source);

  const dataStart = 8 + n;
  const dataLength = buffer.byteLength - dataStart;
  const tensors = new Map<string, SafetensorsTensor>();
  let metadata: Record<string, string> = {};
  const spans: Array<[number, number, string]> = [];

  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof entry !== 'object' || entry === null || Object.values(entry).some((v) => typeof v !== 'string')) {
        fail('__metadata__ must map strings to strings', source);
      }
      metadata = { ...(entry as Record<string, string>) };
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e !== 'object' || e === null) fail(`tensor "${name}" is not an object`, source);
    if (!isDtype(e.dtype))
      fail(
        `tensor "${name}" has unsupported dtype ${JSON.stringify(e.dtype)} (supported: ${Object.keys(BYTES_PER_ELEMENT).join(', ')})`,
        source,
      );
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`tensor "${name}" has an invalid shape ${JSON.stringify(e.shape)}`, source);
    }
    const offsets = e.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`tensor "${name}" has invalid data_offsets ${JSON.stringify(offsets)}`, source);
    }
    const [begin, end] = offsets as [number, number];
    const shape = e.shape as number[];
    const expected = elementCount(shape) * BYTES_PER_ELEMENT[e.dtype];
    if (end < begin || end - begin !== expected) {
      fail(`tensor "${name}" spans ${end - begin} bytes but ${e.dtype}${JSON.stringify(shape)} needs ${expected}`, source);
    }
    if (end > dataLength) fail(`tensor "${name}" ends at byte ${end} but the data section has ${dataLength} (truncated?)`, source);
    spans.push([begin, end, name]);
    tensors.set(name, { dtype: e.dtype, shape, data: viewAs(e.dtype, buffer.subarray(dataStart + begin, dataStart + end)) });
  }

  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) {
    const previous = spans[i - 1] as [number, number, string];
    const current = spans[i] as [number, number, string];
    if (current[0] < previous[1]) fail(`tensors "${previous[2]}" and "${current[2]}" overlap`, source);
  }
  return { tensors, metadata };
}

/** Serialises tensors (in insertion order) and optional string metadata to safetensors bytes. */
export function serializeSafetensors(
  tensors: Map<string, SafetensorsTensor> | Record<string, SafetensorsTensor>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, tensor] of entries) {
    if (name === '__metadata__') throw new TesseraError('E_SAFETENSORS', 'a tensor cannot be named "__metadata__"');
    const bytes = elementCount(tensor.shape) * BYTES_PER_ELEMENT[tensor.dtype];
    if (tensor.data.byteLength !== bytes) {
      throw new TesseraError(
        'E_SAFETENSORS',
        `tensor "${name}": ${tensor.dtype}${JSON.stringify(tensor.shape)} needs ${bytes} bytes, data has ${tensor.data.byteLength}`,
      );
    }
    header[name] = { dtype: tensor.dtype, shape: tensor.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  // Pad with spaces so the data section starts 8-byte aligned, as the reference writer does.
  const padded = Math.ceil(json.byteLength / 8) * 8;
  if (padded !== json.byteLength) {
    const withSpaces = new Uint8Array(padded).fill(0x20);
    withSpaces.set(json);
    json = withSpaces;
  }
  const out = new Uint8Array(8 + json.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  out.set(json, 8);
  let cursor = 8 + json.byteLength;
  for (const [, tensor] of entries) {
    out.set(new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength), cursor);
    cursor += tensor.data.byteLength;
  }
  return out;
}

/**
 * Reads and parses a .safetensors file, whole, into memory (each tensor copied into its own
 * aligned array). E_IO when the file cannot be read, E_SAFETENSORS when it is malformed.
 */
export async function loadSafetensors(path: string): Promise<SafetensorsFile> {
  let buffer: Uint8Array;
  try {
    buffer = await readFile(path);
  } catch (error) {
    throw new TesseraError('E_IO', `cannot read safetensors file ${path}: ${(error as Error).message}`, {
      details: { path },
      cause: error,
    });
  }
  return parseSafetensors(buffer, path);
}

/** Writes atomically: a crash mid-write leaves the previous file intact. */
export async function saveSafetensors(
  path: string,
  tensors: Map<string, SafetensorsTensor> | Record<string, SafetensorsTensor>,
  metadata?: Record<string, string>,
): Promise<void> {
  await writeFileAtomic(path, serializeSafetensors(tensors, metadata));
}

/** Widens any float dtype to Float32Array (F16 and BF16 decoded exactly). */
export function toFloat32(tensor: SafetensorsTensor): Float32Array {
  switch (tensor.dtype) {
    case 'F32':
      return tensor.data as Float32Array;
    case 'BF16': {
      const bits = tensor.data as Uint16Array;
      const widened = new Uint32Array(bits.length);
      for (let i = 0; i < bits.length; i++) widened[i] = (bits[i] as number) << 16;
      return new Float32Array(widened.buffer);
    }
    case 'F16': {
      const bits = tensor.data as Uint16Array;
      const out = new Float32Array(bits.length);
      for (let i = 0; i < bits.length; i++) out[i] = halfToFloat(bits[i] as number);
      return out;
    }
    default:
      return Float32Array.from(tensor.data as ArrayLike<number>, Number);
  }
}

/** Narrows float32 values to F16 or BF16 bits, rounding to nearest even. */
export function fromFloat32(values: Float32Array, dtype: 'F16' | 'BF16'): Uint16Array {
  const out = new Uint16Array(values.length);
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0; i < values.length; i++) {
    const b = bits[i] as number;
    if (dtype === 'BF16') {
      if ((b & 0x7fffffff) > 0x7f800000)
        out[i] = (b >>> 16) | 0x40; // keep NaN a NaN
      else out[i] = (b + 0x7fff + ((b >>> 16) & 1)) >>> 16;
    } else {
      out[i] = floatToHalf(values[i] as number);
    }
  }
  return out;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >>> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

function floatToHalf(value: number): number {
  const f32 = new Float32Array([value]);
  const x = new Uint32Array(f32.buffer)[0] as number;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  e = half;
  return sign | e;
}
