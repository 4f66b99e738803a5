import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isTesseraError } from '@tessera/core';
import { afterAll, describe, expect, it } from 'vitest';
import { ExactStore } from './exactStore.js';
import { FLAT_MAGIC, parseFlatStore, serializeFlatStore } from './flatFile.js';
import { openStore } from './openStore.js';

const root = mkdtempSync(path.join(tmpdir(), 'tessera-flat-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function writeStore(name: string): Promise<string> {
  const file = path.join(root, name);
  const store = await ExactStore.create({ modelId: 'm', dim: 2, path: file });
  await store.upsert('m', [
    { id: 'a', vector: new Float32Array([3, 4]), path: '/a.png', caption: '红心' },
    { id: 'b', vector: new Float32Array([0, 2]), path: '/b.png' },
  ]);
  await store.close();
  return file;
}

async function expectCorrupt(file: string, why: RegExp): Promise<void> {
  const error = await ExactStore.open(file).catch((e: unknown) => e);
  expect(isTesseraError(error, 'E_STORE_CORRUPT'), String(error)).toBe(true);
  expect((error as Error).message).toContain(file);
  expect((error as Error).message).toMatch(why);
  expect((error as { details: { path: string } }).details.path).toBe(file);
}

describe('exact store file', () => {
  it('has the documented layout (header, unit vectors, JSON)', async () => {
    const bytes = readFileSync(await writeStore('layout.tsv'));
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    expect(bytes.subarray(0, 8).toString('latin1')).toBe(FLAT_MAGIC);
    expect([view.getUint32(8, true), view.getUint32(12, true), view.getUint32(16, true)]).toEqual([1, 2, 2]);
    const jsonBytes = Number(view.getBigUint64(24, true));
    expect(bytes.byteLength).toBe(32 + 2 * 2 * 4 + jsonBytes);
    // (3, 4) / 5 and (0, 2) / 2, as float32.
    expect([0, 1, 2, 3].map((i) => view.getFloat32(32 + 4 * i, true))).toEqual([Math.fround(0.6), Math.fround(0.8), 0, 1]);
    expect(JSON.parse(bytes.subarray(48).toString('utf8'))).toEqual({
      modelId: 'm',
      records: [
        { id: 'a', path: '/a.png', caption: '红心' },
        { id: 'b', path: '/b.png' },
      ],
    });
  });

  it('serializes only what it can parse back: a bad dim, count, vector length or record count is E_INPUT', () => {
    const good = { modelId: 'm', dim: 2, count: 1, vectors: new Float32Array([0.6, 0.8]), meta: [{ id: 'a', path: '/a.png' }] };
    expect(parseFlatStore(serializeFlatStore(good), 'x.tsv')).toMatchObject({ modelId: 'm', dim: 2, count: 1, meta: good.meta });
    for (const bad of [
      { ...good, dim: 0 },
      { ...good, dim: 1.5 },
      { ...good, count: -1 },
      { ...good, vectors: new Float32Array([0.6]) },
      { ...good, meta: [] },
    ]) {
      let error: unknown;
      try {
        serializeFlatStore(bad);
      } catch (e) {
        error = e;
      }
      expect(isTesseraError(error, 'E_INPUT'), `${JSON.stringify({ dim: bad.dim, count: bad.count })}: ${String(error)}`).toBe(true);
    }
  });

  it('writes atomically: no temp files left, and an unchanged store is not rewritten', async () => {
    const file = await writeStore('atomic.tsv');
    expect(readdirSync(root).filter((f) => f.startsWith('atomic.tsv'))).toEqual(['atomic.tsv']);
    const store = await ExactStore.open(file);
    writeFileSync(file, readFileSync(file)); // same bytes, new mtime is irrelevant: close must not fail or rewrite
    await store.close();
    expect((await ExactStore.open(file)).info.modelId).toBe('m');
  });

  it('keeps a store without a path in memory only', async () => {
    const store = await ExactStore.create({ modelId: 'm', dim: 2 });
    await store.upsert('m', [{ id: 'a', vector: new Float32Array([1, 1]), path: '/a.png' }]);
    await store.flush();
    expect(store.info.path).toBeUndefined();
    expect((await store.search('m', new Float32Array([1, 0]), 1))[0].score).toBeCloseTo(Math.SQRT1_2, 6);
    await store.close();
    expect(readdirSync(root).filter((f) => !f.endsWith('.tsv'))).toEqual([]);
  });

  it('rejects truncated, padded and damaged files with E_STORE_CORRUPT naming the file', async () => {
    const good = readFileSync(await writeStore('good.tsv'));
    const variant = (name: string, bytes: Uint8Array) => {
      const file = path.join(root, name);
      writeFileSync(file, bytes);
      return file;
    };
    await expectCorrupt(variant('short-header.tsv', good.subarray(0, 20)), /truncated header/);
    await expectCorrupt(variant('truncated.tsv', good.subarray(0, good.byteLength - 3)), /truncated/);
    await expectCorrupt(variant('padded.tsv', Buffer.concat([good, Buffer.from('xx')])), /header says/);
    const badJson = Buffer.from(good);
    badJson[48] = '!'.charCodeAt(0);
    await expectCorrupt(variant('bad-json.tsv', badJson), /not valid JSON/);
    const nan = Buffer.from(good);
    nan.writeFloatLE(Number.NaN, 36);
    await expectCorrupt(variant('nan.tsv', nan), /non-finite/);
    const version = Buffer.from(good);
    version.writeUInt32LE(9, 8);
    await expectCorrupt(variant('version.tsv', version), /version 9/);
    const wrongCount = Buffer.from(good);
    wrongCount.writeUInt32LE(1, 16);
    await expectCorrupt(variant('count.tsv', wrongCount), /header says|records/);
    const magic = Buffer.from(good);
    magic[0] = 0;
    await expectCorrupt(variant('magic.tsv', magic), /not a Tessera vector store/);
    const unknown = await openStore(path.join(root, 'magic.tsv')).catch((e: unknown) => e);
    expect(isTesseraError(unknown, 'E_STORE_UNKNOWN')).toBe(true);
    const missing = await ExactStore.open(path.join(root, 'missing.tsv')).catch((e: unknown) => e);
    expect(isTesseraError(missing, 'E_IO')).toBe(true);
  });
});
