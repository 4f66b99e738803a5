import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isTesseraError, SeededRandom } from '@tessera/core';
import { afterAll, describe, expect, it } from 'vitest';
import { ExactStore } from './exactStore.js';
import { LanceStore } from './lanceStore.js';
import { openStore } from './openStore.js';
import type { VectorRecord, VectorStore } from './vectorStore.js';

const root = mkdtempSync(path.join(tmpdir(), 'tessera-index-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const fresh = (name: string) => path.join(root, `${name}-${counter++}`);

const MODEL = 'clip-tiny@1';

interface Kind {
  label: string;
  name: 'exact' | 'lance';
  create(dim: number): Promise<VectorStore>;
}
const kinds: Kind[] = [
  { label: 'exact', name: 'exact', create: async (dim) => ExactStore.create({ modelId: MODEL, dim, path: fresh('exact.tsv') }) },
  // The int8 first pass with its float32 re-rank must give the exact answers on every case below.
  {
    label: 'exact (int8 scan)',
    name: 'exact',
    create: async (dim) => ExactStore.create({ modelId: MODEL, dim, path: fresh('exact8.tsv'), scan: 'int8' }),
  },
  { label: 'lance', name: 'lance', create: async (dim) => LanceStore.create({ modelId: MODEL, dim, path: fresh('lance') }) },
];

function randomRecords(rng: SeededRandom, n: number, dim: number, prefix = 'img'): VectorRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `${prefix}-${i}`,
    vector: Float32Array.from(rng.array(dim, (r) => r.normal(0, 1))),
    path: `/data/${i % 2 === 0 ? 'even' : 'odd'}/${prefix}-${i}.png`,
    caption: `caption ${i}`,
    hash: `h${i}`,
    mtime: 1_700_000_000_000 + i,
  }));
}

/** The reference: cosine of every record against the query, fully sorted. */
function bruteForce(records: VectorRecord[], query: Float32Array, k: number, keep = (_r: VectorRecord) => true) {
  const norm = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  const qn = norm(query);
  return records
    .filter(keep)
    .map((r) => ({ id: r.id, score: r.vector.reduce((s, x, j) => s + x * query[j], 0) / (norm(r.vector) * qn) }))
    .sort((a, b) => b.score - a.score)
    .slice(0, k);
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isTesseraError(error, code), `expected ${code}, got ${String(error)}`).toBe(true);
}

describe.each(kinds)('$label store', (kind) => {
  it('ranks by cosine similarity (hand-computed)', async () => {
    const store = await kind.create(3);
    await store.upsert(MODEL, [
      { id: 'a', vector: new Float32Array([1, 0, 0]), path: '/a.png' },
      { id: 'b', vector: new Float32Array([3, 4, 0]), path: '/b.png', caption: 'a red heart' },
      { id: 'c', vector: new Float32Array([0, 0, 2]), path: '/c.png' },
    ]);
    const hits = await store.search(MODEL, new Float32Array([1, 1, 0]), 3);
    // cos(b) = (3 + 4) / (5 sqrt 2), cos(a) = 1 / sqrt 2, cos(c) = 0.
    expect(hits.map((h) => h.id)).toEqual(['b', 'a', 'c']);
    expect(hits[0].score).toBeCloseTo(7 / (5 * Math.SQRT2), 5);
    expect(hits[1].score).toBeCloseTo(Math.SQRT1_2, 5);
    expect(hits[2].score).toBeCloseTo(0, 5);
    expect(hits[0]).toMatchObject({ path: '/b.png', caption: 'a red heart' });
    expect(hits[1].caption).toBeUndefined();
    expect(await store.search(MODEL, new Float32Array([1, 1, 0]), 10)).toHaveLength(3);
    await store.close();
  });

  it('returns the exact top-k of a brute-force scan, with and without a path filter', async () => {
    const rng = new SeededRandom(7);
    const dim = 16;
    const records = randomRecords(rng, 300, dim);
    const store = await kind.create(dim);
    await store.upsert(MODEL, records);
    for (let q = 0; q < 5; q++) {
      const query = Float32Array.from(rng.array(dim, (r) => r.normal(0, 1)));
      const expected = bruteForce(records, query, 10);
      const hits = await store.search(MODEL, query, 10);
      expect(hits.map((h) => h.id)).toEqual(expected.map((e) => e.id));
      hits.forEach((h, i) => {
        expect(h.score).toBeCloseTo(expected[i].score, 5);
      });
      const filtered = await store.search(MODEL, query, 5, { pathPrefix: '/data/odd/' });
      const expectedOdd = bruteForce(records, query, 5, (r) => r.path.startsWith('/data/odd/'));
      expect(filtered.map((h) => h.id)).toEqual(expectedOdd.map((e) => e.id));
    }
    await store.close();
  });

  it('refuses vectors and queries from another model or dimension, and bad input', async () => {
    const store = await kind.create(4);
    const record = { id: 'x', vector: new Float32Array([1, 2, 3, 4]), path: '/x.png' };
    await store.upsert(MODEL, [record]);
    await expectCode(store.search('other-model', new Float32Array(4).fill(1), 1), 'E_STORE_MODEL');
    await expectCode(store.upsert('other-model', [{ ...record, id: 'y' }]), 'E_STORE_MODEL');
    await expectCode(store.search(MODEL, new Float32Array(5).fill(1), 1), 'E_STORE_DIMENSION');
    await expectCode(store.upsert(MODEL, [{ ...record, id: 'y', vector: new Float32Array(3).fill(1) }]), 'E_STORE_DIMENSION');
    await expectCode(store.upsert(MODEL, [{ ...record, id: 'y', vector: new Float32Array(4) }]), 'E_INPUT');
    await expectCode(store.upsert(MODEL, [{ ...record, id: 'y', vector: new Float32Array([1, Number.NaN, 0, 0]) }]), 'E_INPUT');
    await expectCode(store.search(MODEL, new Float32Array(4).fill(1), 0), 'E_INPUT');
    // A batch with one bad record changes nothing.
    await expectCode(
      store.upsert(MODEL, [
        { ...record, id: 'ok' },
        { ...record, id: '' },
      ]),
      'E_INPUT',
    );
    expect(await store.count()).toBe(1);
    const error = await store.search('other-model', new Float32Array(4).fill(1), 1).catch((e) => e);
    expect(error.message).toContain(MODEL);
    expect(error.message).toContain('other-model');
    await store.close();
    await expectCode(store.count(), 'E_STORE_CLOSED');
  });

  it('round-trips through disk and reopens by what is there', async () => {
    const rng = new SeededRandom(11);
    const dim = 8;
    const records = randomRecords(rng, 40, dim);
    const store = await kind.create(dim);
    const where = store.info.path!;
    await store.upsert(MODEL, records);
    await store.close();
    const reopened = await openStore(where);
    expect(reopened.info).toEqual({ kind: kind.name, modelId: MODEL, dim, path: where });
    expect(await reopened.count()).toBe(40);
    const got = await reopened.get('img-3');
    const v = records[3].vector;
    const n = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    expect(Array.from(got!.vector)).toEqual(Array.from(v, (x) => expect.closeTo(x / n, 6)));
    expect(got).toMatchObject({ id: 'img-3', path: records[3].path, caption: 'caption 3', hash: 'h3', mtime: records[3].mtime });
    expect(await reopened.get('missing')).toBeUndefined();
    const query = records[5].vector;
    const hits = await reopened.search(MODEL, query, 3);
    expect(hits[0].id).toBe('img-5');
    expect(hits[0].score).toBeCloseTo(1, 5);
    expect(hits.map((h) => h.id)).toEqual(bruteForce(records, query, 3).map((e) => e.id));
    await expectCode(reopened.search('other-model', query, 3), 'E_STORE_MODEL');
    await reopened.close();
  });

  it('upserts incrementally without duplicates, deletes, and survives a rerun', async () => {
    const rng = new SeededRandom(3);
    const dim = 8;
    const first = randomRecords(rng, 50, dim);
    const store = await kind.create(dim);
    const where = store.info.path!;
    await store.upsert(MODEL, first);
    // A rerun: the same 50 (5 of them changed) plus 10 new ones.
    const changed = first.map((r, i) =>
      i < 5 ? { ...r, hash: `new${i}`, vector: Float32Array.from(rng.array(dim, (x) => x.normal(0, 1))) } : r,
    );
    const extra = randomRecords(rng, 10, dim, 'new');
    await store.upsert(MODEL, [...changed, ...extra]);
    await store.upsert(MODEL, [...changed, ...extra]);
    expect(await store.count()).toBe(60);
    const entries = await store.entries();
    expect(entries).toHaveLength(60);
    expect(new Set(entries.map((e) => e.id)).size).toBe(60);
    expect(entries.find((e) => e.id === 'img-2')).toEqual({ id: 'img-2', path: first[2].path, hash: 'new2', mtime: first[2].mtime });
    const hits = await store.search(MODEL, changed[1].vector, 1);
    expect(hits[0].id).toBe('img-1');
    expect(hits[0].score).toBeCloseTo(1, 5);
    // Duplicate ids within one batch: the last one wins.
    await store.upsert(MODEL, [
      { id: 'dup', vector: new Float32Array(dim).fill(1), path: '/first.png' },
      { id: 'dup', vector: new Float32Array(dim).fill(-1), path: '/second.png' },
    ]);
    expect(await store.count()).toBe(61);
    expect((await store.get('dup'))?.path).toBe('/second.png');
    expect(await store.delete(['img-0', 'img-1', 'new-9', 'dup', 'never-there'])).toBe(4);
    expect(await store.delete(['img-0', 'img-1'])).toBe(0);
    expect(await store.has('img-0')).toBe(false);
    expect(await store.has('img-2')).toBe(true);
    expect(await store.count()).toBe(57);
    const remaining = [...changed, ...extra].filter((r) => !['img-0', 'img-1', 'new-9'].includes(r.id));
    const query = Float32Array.from(rng.array(dim, (x) => x.normal(0, 1)));
    expect((await store.search(MODEL, query, 7)).map((h) => h.id)).toEqual(bruteForce(remaining, query, 7).map((e) => e.id));
    await store.close();
    const reopened = await openStore(where);
    expect(await reopened.count()).toBe(57);
    expect((await reopened.search(MODEL, query, 7)).map((h) => h.id)).toEqual(bruteForce(remaining, query, 7).map((e) => e.id));
    await reopened.close();
  });

  it('quotes ids and filters safely', async () => {
    const store = await kind.create(2);
    const tricky = "it's a 'quoted' id";
    await store.upsert(MODEL, [
      { id: tricky, vector: new Float32Array([1, 0]), path: "/it's/a.png" },
      { id: 'plain', vector: new Float32Array([0, 1]), path: '/plain/b.png' },
    ]);
    expect(await store.has(tricky)).toBe(true);
    expect((await store.search(MODEL, new Float32Array([0, 1]), 2, { pathPrefix: "/it's/" })).map((h) => h.id)).toEqual([tricky]);
    expect(await store.delete([tricky])).toBe(1);
    expect(await store.count()).toBe(1);
    await store.close();
  });
});

describe('openStore', () => {
  it('creates the requested kind only when asked, and rejects what it does not know', async () => {
    await expectCode(openStore(fresh('nothing')), 'E_STORE_NOT_FOUND');
    const exact = await openStore(fresh('made.tsv'), { create: { kind: 'exact', modelId: MODEL, dim: 2 } });
    expect(exact.info.kind).toBe('exact');
    await exact.close();
    const lance = await openStore(fresh('made-lance'), { create: { kind: 'lance', modelId: MODEL, dim: 2 } });
    expect(lance.info.kind).toBe('lance');
    await lance.close();
    await expectCode(openStore(root), 'E_STORE_UNKNOWN');
    await expectCode(ExactStore.create({ modelId: MODEL, dim: 2, path: exact.info.path }), 'E_STORE_EXISTS');
    await expectCode(LanceStore.create({ modelId: MODEL, dim: 2, path: lance.info.path! }), 'E_STORE_EXISTS');
  });
});

describe('LanceStore with several writers', () => {
  it('is created once when writers race to create it, and takes their disjoint upserts side by side', async () => {
    const dir = fresh('race');
    const writers = await Promise.all(
      Array.from({ length: 4 }, () => openStore(dir, { create: { kind: 'lance', modelId: MODEL, dim: 8 } })),
    );
    const rng = new SeededRandom(3);
    const parts = writers.map((_, w) => randomRecords(rng, 30, 8, `w${w}`));
    // Two rounds: the first appends to an empty table, the second merge-inserts.
    await Promise.all(writers.map((store, w) => store.upsert(MODEL, parts[w]!.slice(0, 10))));
    await Promise.all(writers.map((store, w) => store.upsert(MODEL, parts[w]!.slice(10))));
    await Promise.all(writers.map((store, w) => store.delete([`w${w}-0`])));
    const reader = await openStore(dir);
    const ids = (await reader.entries()).map((e) => e.id);
    expect(ids.length).toBe(4 * 29);
    expect(new Set(ids)).toEqual(new Set(parts.flatMap((p) => p.slice(1).map((r) => r.id))));
    for (const store of [...writers, reader]) await store.close();
  });

  it('refuses at once a directory holding other files, even when asked to create a store, and object-store URIs', async () => {
    await expectCode(openStore(root, { create: { kind: 'lance', modelId: MODEL, dim: 2 } }), 'E_STORE_UNKNOWN');
    await expectCode(openStore('s3://bucket/photos.lance', { create: { kind: 'lance', modelId: MODEL, dim: 2 } }), 'E_CONFIG');
  });
});

describe('ExactStore.searchBatch', () => {
  it('answers a batch of queries as the brute-force scan does: ties, k > n, filters, empty store', async () => {
    const store = await ExactStore.create({ modelId: MODEL, dim: 16 });
    const none = await store.searchBatch(MODEL, [new Float32Array(16).fill(1)], 3);
    expect(none).toEqual([[]]);
    expect(await store.searchBatch(MODEL, [], 3)).toEqual([]);
    const rng = new SeededRandom(11);
    const records = randomRecords(rng, 400, 16);
    // Duplicated vectors under later ids tie exactly: the earlier row (the lower insert order) wins.
    records.push(...records.slice(0, 20).map((r, i) => ({ ...r, id: `dup-${i}`, path: r.path })));
    await store.upsert(MODEL, records);
    const queries = [...Array.from({ length: 9 }, () => Float32Array.from(rng.array(16, (r) => r.normal(0, 1)))), records[3].vector];
    for (const kernel of ['auto', 'gemm', 'dots'] as const) {
      const batch = await store.searchBatch(MODEL, queries, 10, undefined, kernel);
      const filtered = await store.searchBatch(MODEL, queries, 5, { pathPrefix: '/data/odd/' }, kernel);
      for (let q = 0; q < queries.length; q++) {
        const expected = bruteForce(records, queries[q], 10);
        expect(batch[q].map((h) => h.id)).toEqual(expected.map((e) => e.id));
        batch[q].forEach((h, i) => {
          expect(h.score).toBeCloseTo(expected[i].score, 5);
        });
        // Batched scores come from another summation order: equal to float32 rounding.
        const single = await store.search(MODEL, queries[q], 10);
        expect(batch[q].map(({ score, ...rest }) => rest)).toEqual(single.map(({ score, ...rest }) => rest));
        batch[q].forEach((h, i) => {
          expect(Math.abs(h.score - single[i].score)).toBeLessThan(1e-5);
        });
        const expectedOdd = bruteForce(records, queries[q], 5, (r) => r.path.startsWith('/data/odd/'));
        expect(filtered[q].map((h) => h.id)).toEqual(expectedOdd.map((e) => e.id));
      }
      // The last query is record 3 itself, whose duplicate dup-3 ties at 1.
      expect(batch[9].slice(0, 2).map((h) => h.id)).toEqual(['img-3', 'dup-3']);
    }
    const all = await store.searchBatch(MODEL, queries.slice(0, 2), 1000);
    expect(all.map((hits) => hits.length)).toEqual([420, 420]);
    expect(all[0].map((h) => h.id)).toEqual(bruteForce(records, queries[0], 1000).map((e) => e.id));
    await expectCode(store.searchBatch(MODEL, [new Float32Array(15).fill(1)], 1), 'E_STORE_DIMENSION');
    await expectCode(store.searchBatch('other-model', queries, 1), 'E_STORE_MODEL');
    await expectCode(store.searchBatch(MODEL, queries, 0), 'E_INPUT');
    await store.close();
  });
});

describe('ExactStore int8 scan', () => {
  it('finds the same hits and scores as the float32 scan on 4000 random vectors, filters and deletes included', async () => {
    const rng = new SeededRandom(5);
    const dim = 64;
    const records = randomRecords(rng, 4000, dim);
    const exact = await ExactStore.create({ modelId: MODEL, dim });
    const int8 = await ExactStore.create({ modelId: MODEL, dim, scan: 'int8' });
    expect(int8.scan).toBe('int8');
    for (const store of [exact, int8]) {
      await store.upsert(MODEL, records);
      expect(await store.delete(records.slice(0, 300).map((r) => r.id))).toBe(300);
    }
    const remaining = records.slice(300);
    for (let q = 0; q < 20; q++) {
      const query = Float32Array.from(rng.array(dim, (r) => r.normal(0, 1)));
      const filter = q % 2 === 0 ? undefined : { pathPrefix: '/data/odd/' };
      const want = await exact.search(MODEL, query, 10, filter);
      const got = await int8.search(MODEL, query, 10, filter);
      expect(got.map((h) => h.id)).toEqual(want.map((h) => h.id));
      // The re-rank runs the float32 scan's kernel on the candidates: the very same scores.
      expect(got).toEqual(want);
      if (filter === undefined) expect(got.map((h) => h.id)).toEqual(bruteForce(remaining, query, 10).map((e) => e.id));
    }
    await exact.close();
    await int8.close();
  });

  it('reopens a float32 file with an int8 scan through openStore, and refuses bad scan settings', async () => {
    const rng = new SeededRandom(9);
    const records = randomRecords(rng, 200, 32);
    const where = fresh('reopen8.tsv');
    const store = await ExactStore.create({ modelId: MODEL, dim: 32, path: where });
    await store.upsert(MODEL, records);
    await store.close();
    const reopened = await openStore(where, { exact: { scan: 'int8', rerank: 4 } });
    expect((reopened as ExactStore).scan).toBe('int8');
    const query = records[17].vector;
    expect((await reopened.search(MODEL, query, 5)).map((h) => h.id)).toEqual(bruteForce(records, query, 5).map((e) => e.id));
    await reopened.close();
    await expectCode(ExactStore.create({ modelId: MODEL, dim: 32, scan: 'int4' as 'int8' }), 'E_INPUT');
    await expectCode(ExactStore.open(where, { scan: 'int8', rerank: 0 }), 'E_INPUT');
  });
});
