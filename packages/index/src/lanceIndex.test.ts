import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isTesseraError, SeededRandom } from '@tessera/core';
import { afterAll, describe, expect, it } from 'vitest';
import { LANCE_MANIFEST, LanceStore } from './lanceStore.js';
import { openStore } from './openStore.js';
import type { VectorRecord } from './vectorStore.js';

const root = mkdtempSync(path.join(tmpdir(), 'tessera-lance-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function unit(rng: SeededRandom, dim: number): Float32Array {
  const v = Float32Array.from(rng.array(dim, (r) => r.normal(0, 1)));
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

/** Exact top-k ids by inner product of unit vectors. */
function exactTop(vectors: Float32Array[], q: Float32Array, k: number): string[] {
  return vectors
    .map((v, i) => ({ id: `r${i}`, s: v.reduce((acc, x, j) => acc + x * q[j], 0) }))
    .sort((a, b) => b.s - a.s)
    .slice(0, k)
    .map((e) => e.id);
}

describe('LanceStore ANN index', () => {
  it('builds an IVF-PQ index with high recall, finds rows added later, and keeps its settings on reopen', async () => {
    const rng = new SeededRandom(21);
    const dim = 32;
    // Clustered data (as real embeddings are): 16 centres plus noise.
    const centres = Array.from({ length: 16 }, () => unit(rng, dim));
    const vectors = Array.from({ length: 2000 }, (_, i) => {
      const c = centres[i % 16];
      const noise = unit(rng, dim);
      const v = c.map((x, j) => x + 0.5 * noise[j]);
      const n = Math.hypot(...v);
      return v.map((x) => x / n);
    });
    const records: VectorRecord[] = vectors.map((vector, i) => ({ id: `r${i}`, vector, path: `/r${i}.png` }));
    const dir = path.join(root, 'indexed');
    const store = await LanceStore.create({ modelId: 'm', dim, path: dir });
    await store.upsert('m', records);
    expect(store.index).toBeNull();
    const config = await store.buildIndex({
      type: 'ivf_pq',
      numPartitions: 8,
      numSubVectors: 8,
      nprobes: 4,
      refineFactor: 20,
      maxIterations: 10,
    });
    expect(config).toMatchObject({ type: 'ivf_pq', numPartitions: 8, nprobes: 4, refineFactor: 20 });
    expect(config).not.toHaveProperty('efConstruction');
    let found = 0;
    const queries = Array.from({ length: 20 }, () => unit(rng, dim));
    for (const q of queries) {
      const truth = new Set(exactTop(vectors, q, 10));
      const hits = await store.search('m', q, 10);
      found += hits.filter((h) => truth.has(h.id)).length;
    }
    expect(found / 200).toBeGreaterThanOrEqual(0.9);
    // A row written after the index is still found (exact scan of unindexed rows).
    const late = unit(rng, dim);
    await store.upsert('m', [{ id: 'late', vector: late, path: '/late.png' }]);
    expect((await store.search('m', late, 1))[0]).toMatchObject({ id: 'late', score: expect.closeTo(1, 4) });
    await store.optimize();
    expect(await store.count()).toBe(2001);
    await store.setSearchParams({ nprobes: 8 });
    await store.close();
    const reopened = (await openStore(dir)) as LanceStore;
    expect(reopened.index).toMatchObject({ type: 'ivf_pq', numPartitions: 8, nprobes: 8, refineFactor: 20 });
    expect((await reopened.search('m', late, 1))[0].id).toBe('late');
    await reopened.close();
  });

  it('builds an IVF-HNSW-SQ index whose neighbours match exact search', async () => {
    const rng = new SeededRandom(4);
    const dim = 32;
    const vectors = Array.from({ length: 1000 }, () => unit(rng, dim));
    const store = await LanceStore.create({ modelId: 'm', dim, path: path.join(root, 'hnsw') });
    await store.upsert(
      'm',
      vectors.map((vector, i) => ({ id: `r${i}`, vector, path: `/r${i}.png` })),
    );
    await store.buildIndex({ type: 'ivf_hnsw_sq', numPartitions: 1, m: 16, efConstruction: 100, ef: 100 });
    let found = 0;
    for (let i = 0; i < 20; i++) {
      const q = unit(rng, dim);
      const truth = new Set(exactTop(vectors, q, 10));
      found += (await store.search('m', q, 10)).filter((h) => truth.has(h.id)).length;
    }
    // With LanceDB's "dot" distance this index returned almost nothing right (recall ~0.01).
    expect(found / 200).toBeGreaterThanOrEqual(0.9);
    await store.close();
  });

  it('refuses an index on too few rows, and reports damaged manifests', async () => {
    const dir = path.join(root, 'small');
    const store = await LanceStore.create({ modelId: 'm', dim: 4, path: dir });
    await store.upsert('m', [{ id: 'a', vector: new Float32Array([1, 0, 0, 0]), path: '/a' }]);
    expect(isTesseraError(await store.buildIndex().catch((e: unknown) => e), 'E_INPUT')).toBe(true);
    await store.close();
    writeFileSync(path.join(dir, LANCE_MANIFEST), '{ not json');
    expect(isTesseraError(await LanceStore.open(dir).catch((e: unknown) => e), 'E_STORE_CORRUPT')).toBe(true);
    writeFileSync(
      path.join(dir, LANCE_MANIFEST),
      JSON.stringify({ format: 'tessera-lance-store', version: 1, modelId: 'm', dim: -1, index: null }),
    );
    const error = await LanceStore.open(dir).catch((e: unknown) => e);
    expect(isTesseraError(error, 'E_CONFIG')).toBe(true);
    expect((error as Error).message).toContain('dim');
  });
});
