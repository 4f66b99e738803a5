import { type FileHandle, open } from 'node:fs/promises';
import path from 'node:path';
import { MAX_HEADER_BYTES, type Module, pathExists, type SafetensorsDtype, TesseraError, tf, toFloat32 } from '@tessera/core';
import { readHfJson } from './hfFolder.js';

/** How a Module's parameter names map to a folder's tensor names. */
export interface HfNameMapping {
  /** The folder's tensor name of a Tessera parameter name (e.g. `text_model.embeddings.token_embedding.weight`). */
  toHfName(name: string): string;
  /** Tensors of the folder that are no parameters (buffers such as `position_ids`). */
  ignoreHf?: readonly RegExp[];
  /**
   * Name prefixes a folder may leave out (transformers 5 saves CLIPTextModel without
   * `text_model.`): a tensor is found under its full name or without the prefix.
   */
  optionalPrefixes?: readonly string[];
  /**
   * For a parameter stored as one of `parts` equal blocks along the first axis of its HF
   * tensor (BLIP's fused `qkv`: the query, key and value rows), which block; undefined for a
   * parameter that is a whole tensor.
   */
  hfPart?(name: string): HfPart | undefined;
}

/** Block `part` of `parts` equal blocks along an HF tensor's first axis. */
export interface HfPart {
  part: number;
  parts: number;
}

/** Where one tensor lies: its file, dtype, shape and absolute byte span. */
export interface HfTensorEntry {
  file: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

export const HF_WEIGHTS_FILE = 'model.safetensors';
export const HF_WEIGHTS_INDEX = 'model.safetensors.index.json';

const BYTES: Partial<Record<SafetensorsDtype, number>> = { F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, U8: 1 };

function weightsError(file: string, message: string, details: Record<string, unknown> = {}): TesseraError {
  return new TesseraError('E_PRETRAINED_WEIGHTS', `${file}: ${message}`, { details: { path: file, ...details } });
}

async function readExactly(fh: FileHandle, length: number, position: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  const { bytesRead } = await fh.read(out, 0, length, position);
  if (bytesRead !== length) throw new Error(`read ${bytesRead} of ${length} bytes at ${position}`);
  return out;
}

/** The header of one safetensors file, read without its data; a truncated file is E_PRETRAINED_WEIGHTS. */
export async function readSafetensorsIndex(file: string): Promise<Map<string, HfTensorEntry>> {
  let fh: FileHandle;
  try {
    fh = await open(file, 'r');
  } catch (cause) {
    throw new TesseraError('E_PRETRAINED_WEIGHTS', `cannot open ${file}: ${(cause as Error).message}`, { details: { path: file }, cause });
  }
  try {
    const size = (await fh.stat()).size;
    if (size < 8) throw weightsError(file, `the file is ${size} bytes, shorter than the 8-byte header length (truncated?)`);
    const n = Number(new DataView((await readExactly(fh, 8, 0)).buffer).getBigUint64(0, true));
    if (n > MAX_HEADER_BYTES) throw weightsError(file, `header claims ${n} bytes, over the ${MAX_HEADER_BYTES}-byte limit`);
    if (8 + n > size) throw weightsError(file, `header claims ${n} bytes but the file has ${size - 8} after the length (truncated?)`);
    let header: Record<string, unknown>;
    try {
      header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(await readExactly(fh, n, 8)));
    } catch (cause) {
      throw weightsError(file, `the header is not valid JSON (${(cause as Error).message})`);
    }
    const entries = new Map<string, HfTensorEntry>();
    for (const [name, value] of Object.entries(header)) {
      if (name === '__metadata__') continue;
      const e = value as { dtype?: SafetensorsDtype; shape?: number[]; data_offsets?: [number, number] };
      const bytes = e?.dtype ? BYTES[e.dtype] : undefined;
      if (!bytes || !Array.isArray(e.shape) || !Array.isArray(e.data_offsets)) {
        throw weightsError(file, `tensor "${name}" has an unsupported dtype or a malformed entry: ${JSON.stringify(value)}`, {
          tensor: name,
        });
      }
      const [begin, end] = e.data_offsets;
      const expected = e.shape.reduce((a, b) => a * b, 1) * bytes;
      if (end - begin !== expected)
        throw weightsError(file, `tensor "${name}" spans ${end - begin} bytes, ${e.dtype}[${e.shape}] needs ${expected}`);
      if (8 + n + end > size) {
        throw weightsError(
          file,
          `tensor "${name}" ends at byte ${8 + n + end} but the file has ${size} bytes (truncated? download it again)`,
          {
            tensor: name,
          },
        );
      }
      entries.set(name, { file, dtype: e.dtype as SafetensorsDtype, shape: e.shape, begin: 8 + n + begin, end: 8 + n + end });
    }
    return entries;
  } finally {
    await fh.close();
  }
}

/** Every tensor of a folder: `model.safetensors`, or the shards `model.safetensors.index.json` lists. */
export async function listHfWeights(dir: string): Promise<Map<string, HfTensorEntry>> {
  const single = path.join(dir, HF_WEIGHTS_FILE);
  if (await pathExists(single)) return readSafetensorsIndex(single);
  const indexFile = path.join(dir, HF_WEIGHTS_INDEX);
  if (!(await pathExists(indexFile))) {
    throw new TesseraError(
      'E_PRETRAINED_WEIGHTS',
      `${dir} has neither ${HF_WEIGHTS_FILE} nor ${HF_WEIGHTS_INDEX}: Tessera reads safetensors weights (convert pytorch_model.bin with save_pretrained(safe_serialization=True))`,
      { details: { path: dir } },
    );
  }
  const index = await readHfJson(indexFile, 'E_PRETRAINED_WEIGHTS', 'the shard index');
  const map = index.weight_map as Record<string, unknown> | undefined;
  if (typeof map !== 'object' || map === null) throw weightsError(indexFile, 'has no weight_map object');
  const all = new Map<string, HfTensorEntry>();
  for (const shard of new Set(Object.values(map))) {
    if (typeof shard !== 'string') throw weightsError(indexFile, `weight_map values must be file names, got ${JSON.stringify(shard)}`);
    for (const [name, entry] of await readSafetensorsIndex(path.join(dir, shard))) all.set(name, entry);
  }
  const absent = Object.keys(map).filter((name) => !all.has(name));
  if (absent.length) throw weightsError(indexFile, `lists tensors its shards do not hold: ${absent.join(', ')}`, { absent });
  return all;
}

/** Shapes that agree once size-1 axes are dropped (CLIP's class_embedding [D] is Tessera's [1, 1, D]). */
function sameShape(a: readonly number[], b: readonly number[]): boolean {
  const squeeze = (s: readonly number[]) => s.filter((d) => d !== 1).join();
  return a.join() === b.join() || squeeze(a) === squeeze(b);
}

/**
 * Fills `model` from a Hugging Face folder's safetensors, tensor by tensor: each is read from
 * its file, widened to float32 (F16, BF16) and assigned, so peak memory stays near one float32
 * copy of the model; a parameter that is a block of a fused tensor (`hfPart`) reads only its
 * rows. Missing, unexpected and wrongly shaped tensors are all listed in one
 * E_PRETRAINED_WEIGHTS naming the folder's weight file; nothing is assigned then.
 */
export async function loadHfWeights(model: Module, dir: string, mapping: HfNameMapping): Promise<void> {
  const tensors = await listHfWeights(dir);
  const params = model.namedParameters();
  const wanted = new Map<string, { hf: string; part?: HfPart }>();
  for (const name of params.keys()) {
    const full = mapping.toHfName(name);
    const prefix = mapping.optionalPrefixes?.find((p) => full.startsWith(p));
    const bare = prefix ? full.slice(prefix.length) : undefined;
    const hf = !tensors.has(full) && bare !== undefined && tensors.has(bare) ? bare : full;
    wanted.set(name, { hf, part: mapping.hfPart?.(name) });
  }
  const used = new Set([...wanted.values()].map((w) => w.hf));
  const missing = [...used].filter((hf) => !tensors.has(hf));
  const unexpected = [...tensors.keys()].filter((hf) => !used.has(hf) && !mapping.ignoreHf?.some((r) => r.test(hf)));
  const misshaped = new Set<string>();
  for (const [name, { hf, part }] of wanted) {
    const entry = tensors.get(hf);
    const own = params.get(name)?.variable.shape ?? [];
    // A block of a fused tensor: the HF tensor has `parts` times the rows.
    const shape = part ? [(own[0] ?? 1) * part.parts, ...own.slice(1)] : own;
    if (entry && !sameShape(entry.shape, shape)) misshaped.add(`${hf}: expected [${shape}], got [${entry.shape}]`);
    else if (entry && !['F32', 'F16', 'BF16'].includes(entry.dtype)) misshaped.add(`${hf}: dtype ${entry.dtype} is not a float type`);
  }
  if (missing.length || unexpected.length || misshaped.size) {
    const file = tensors.size ? (tensors.values().next().value as HfTensorEntry).file : dir;
    const where = (await pathExists(path.join(dir, HF_WEIGHTS_FILE))) ? file : path.join(dir, HF_WEIGHTS_INDEX);
    const parts = [
      missing.length ? `missing: ${missing.join(', ')}` : '',
      unexpected.length ? `unexpected: ${unexpected.join(', ')}` : '',
      misshaped.size ? `wrong shape: ${[...misshaped].join('; ')}` : '',
    ].filter(Boolean);
    throw new TesseraError(
      'E_PRETRAINED_WEIGHTS',
      `${where} does not fit the architecture its config.json describes (${parts.join(' | ')}). Check that config.json and the weights come from the same model.`,
      { details: { path: where, missing, unexpected, misshaped: [...misshaped] } },
    );
  }
  const byFile = new Map<string, Array<[string, HfTensorEntry, HfPart | undefined]>>();
  for (const [name, { hf, part }] of wanted) {
    const entry = tensors.get(hf) as HfTensorEntry;
    byFile.set(entry.file, [...(byFile.get(entry.file) ?? []), [name, entry, part]]);
  }
  for (const [file, list] of byFile) {
    const fh = await open(file, 'r');
    try {
      for (const [name, entry, part] of list) {
        // A block along the first axis is one contiguous span of the tensor's bytes.
        const span = (entry.end - entry.begin) / (part?.parts ?? 1);
        const bytes = await readExactly(fh, span, entry.begin + (part?.part ?? 0) * span);
        const shape = part ? [(entry.shape[0] as number) / part.parts, ...entry.shape.slice(1)] : entry.shape;
        const data = entry.dtype === 'F32' ? new Float32Array(bytes.buffer) : new Uint16Array(bytes.buffer);
        const values = toFloat32({ dtype: entry.dtype, shape, data });
        const variable = params.get(name)?.variable as tf.Variable;
        const value = tf.tensor(values, variable.shape, 'float32');
        variable.assign(value);
        value.dispose();
      }
    } finally {
      await fh.close();
    }
  }
}
