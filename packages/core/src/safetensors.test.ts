import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isTesseraError } from '@tessera/base';
import { describe, expect, it } from 'vitest';
import {
  fromFloat32,
  loadSafetensors,
  parseSafetensors,
  type SafetensorsTensor,
  saveSafetensors,
  serializeSafetensors,
  toFloat32,
} from './safetensors.js';

const fixtures = path.join(import.meta.dirname, '../test/fixtures');
const reference = JSON.parse(readFileSync(path.join(fixtures, 'reference.json'), 'utf8'));
const parsePy = (v: string) => (v === 'inf' ? Infinity : v === '-inf' ? -Infinity : Number(v));

function expectSafetensorsError(fn: () => unknown, pattern: RegExp) {
  try {
    fn();
  } catch (error) {
    expect(isTesseraError(error, 'E_SAFETENSORS')).toBe(true);
    expect((error as Error).message).toMatch(pattern);
    return;
  }
  throw new Error('expected a TesseraError');
}

describe('safetensors', () => {
  it('reads every dtype of a file written by the reference writer', async () => {
    const file = await loadSafetensors(path.join(fixtures, 'reference.safetensors'));
    expect(file.metadata).toEqual(reference.metadata);
    expect([...file.tensors.keys()].sort()).toEqual(Object.keys(reference.tensors).sort());
    for (const [name, want] of Object.entries<any>(reference.tensors)) {
      const got = file.tensors.get(name) as SafetensorsTensor;
      expect(got.dtype, name).toBe(want.dtype);
      expect(got.shape, name).toEqual(want.shape);
      if (want.dtype === 'I64') {
        expect([...(got.data as BigInt64Array)].map(String)).toEqual(want.values);
      } else if (want.bits) {
        expect([...(got.data as Uint16Array)], name).toEqual(want.bits);
        expect([...toFloat32(got)], name).toEqual(want.values.map(parsePy));
      } else {
        expect(Array.from(got.data as ArrayLike<number>, Number), name).toEqual(want.values.map(parsePy));
      }
    }
  });

  it('narrows float32 to the same F16/BF16 bits as PyTorch (round to nearest even)', () => {
    const source = new Float32Array([0, -0, 1, -2.5, Math.PI, 1e-3, 65504, 1e-7, 123456.789, Infinity]);
    expect([...fromFloat32(source, 'F16')]).toEqual(reference.tensors['weights.f16'].bits);
    expect([...fromFloat32(source, 'BF16')]).toEqual(reference.tensors['weights.bf16'].bits);
  });

  it('round-trips through write and read, with 8-byte-aligned data and metadata', async () => {
    const tensors: Record<string, SafetensorsTensor> = {
      a: { dtype: 'F32', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) },
      b: { dtype: 'I64', shape: [1], data: new BigInt64Array([-5n]) },
      c: { dtype: 'U8', shape: [3], data: new Uint8Array([1, 2, 3]) },
      d: { dtype: 'BF16', shape: [2], data: fromFloat32(new Float32Array([1.5, -2]), 'BF16') },
    };
    const dir = await mkdtemp(path.join(tmpdir(), 'tessera-st-'));
    const file = path.join(dir, 'model.safetensors');
    await saveSafetensors(file, tensors, { note: 'hi' });
    const bytes = await readFile(file);
    const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    expect((8 + headerLength) % 8).toBe(0);
    const back = parseSafetensors(bytes);
    expect(back.metadata).toEqual({ note: 'hi' });
    for (const [name, t] of Object.entries(tensors)) expect(back.tensors.get(name)).toEqual(t);
    expect([...toFloat32(back.tensors.get('d') as SafetensorsTensor)]).toEqual([1.5, -2]);
  });

  it('rejects a truncated file', async () => {
    const bytes = await readFile(path.join(fixtures, 'reference.safetensors'));
    expectSafetensorsError(() => parseSafetensors(bytes.subarray(0, bytes.length - 3)), /truncated/);
    expectSafetensorsError(() => parseSafetensors(bytes.subarray(0, 5)), /shorter than/);
    expectSafetensorsError(() => parseSafetensors(bytes.subarray(0, 40)), /truncated/);
  });

  it('rejects a header larger than 100 MB without allocating it', () => {
    const bytes = new Uint8Array(16);
    new DataView(bytes.buffer).setBigUint64(0, 2n ** 62n, true);
    expectSafetensorsError(() => parseSafetensors(bytes), /over the 100000000-byte limit/);
  });

  it('rejects headers that lie about offsets, shapes or dtypes', () => {
    const make = (header: object, dataBytes: number) => {
      const json = new TextEncoder().encode(JSON.stringify(header));
      const out = new Uint8Array(8 + json.length + dataBytes);
      new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
      out.set(json, 8);
      return out;
    };
    expectSafetensorsError(() => parseSafetensors(make({ x: { dtype: 'F32', shape: [4], data_offsets: [0, 8] } }, 16)), /needs 16/);
    expectSafetensorsError(() => parseSafetensors(make({ x: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, 8)), /truncated/);
    expectSafetensorsError(
      () =>
        parseSafetensors(
          make({ x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, y: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, 12),
        ),
      /overlap/,
    );
    expectSafetensorsError(() => parseSafetensors(make({ x: { dtype: 'F64', shape: [1], data_offsets: [0, 8] } }, 8)), /unsupported dtype/);
    expectSafetensorsError(() => parseSafetensors(make({ x: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, 4)), /invalid shape/);
    expectSafetensorsError(() => parseSafetensors(make([1, 2], 0)), /not a JSON object/);
    const garbage = make({}, 0);
    garbage[9] = 0xff;
    expectSafetensorsError(() => parseSafetensors(garbage), /not valid UTF-8 JSON/);
  });

  it('refuses to serialise data that does not match the declared shape', () => {
    expect(() => serializeSafetensors({ x: { dtype: 'F32', shape: [3], data: new Float32Array(2) } })).toThrow(/needs 12 bytes/);
  });

  it('reports a missing file as E_IO with the path', async () => {
    await expect(loadSafetensors('/nonexistent/model.safetensors')).rejects.toMatchObject({ code: 'E_IO' });
  });

  it('leaves the previous file intact when a save cannot complete', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tessera-st-'));
    const file = path.join(dir, 'keep.safetensors');
    await saveSafetensors(file, { a: { dtype: 'U8', shape: [1], data: new Uint8Array([7]) } });
    const before = await readFile(file);
    await expect(saveSafetensors(file, { a: { dtype: 'F32', shape: [2], data: new Float32Array(1) } })).rejects.toThrow();
    expect(await readFile(file)).toEqual(before);
    await writeFile(path.join(dir, 'unrelated'), 'x');
  });
});
