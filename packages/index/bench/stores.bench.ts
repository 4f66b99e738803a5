/**
 * Store benchmark: query latency (p50/p99) and throughput of ExactStore and LanceStore at
 * 10k, 100k and 1M random 512-d unit vectors, against FAISS (IndexFlatIP for the exact store,
 * IndexIVFFlat for LanceDB's IVF-PQ) on the same vectors and queries in the same run, with
 * recall@10 of the approximate indexes against exact search.
 *
 *   npm run bench -w @tessera/index                  # all sizes
 *   BENCH_SIZES=10000,100000 npm run bench -w @tessera/index
 *
 * Needs Debian python3-faiss (`apt-get install -y python3-faiss`), run by /usr/bin/python3
 * (BENCH_PYTHON to change).
 * Vectors are generated once with a fixed seed into .bench-scratch/ (gitignored);
 * BENCH_PREPARE_ONLY=1 only writes them.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { recordBenchmark, SeededRandom } from '@tessera/core';
import { ExactStore, type LanceIndexOptions, LanceStore, type VectorStore } from '../src/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const scratch = path.join(here, '..', '.bench-scratch');
const DIM = 512;
const K = 10;
const SEED = 20_261_129;
const sizes = (process.env.BENCH_SIZES ?? '10000,100000,1000000').split(',').map(Number);
const NQ = Number(process.env.BENCH_QUERIES ?? 100);
/** Debian's python3-faiss installs for the system interpreter, not for pyenv ones on PATH. */
const PYTHON = process.env.BENCH_PYTHON ?? '/usr/bin/python3';
const MODEL = 'bench-random-512';
const TARGET_RECALL = 0.95;
/** Which of our stores to measure (`exact,lance` by default). */
const STORES = new Set((process.env.BENCH_STORES ?? 'exact,lance').split(','));

function requireFaiss(): void {
  const probe = spawnSync(PYTHON, ['-c', 'import faiss, numpy'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    process.stderr.write(
      `FAISS is missing, so there is no peer to compare with. Install it (Debian):\n  apt-get install -y python3-faiss\nthen rerun. (${PYTHON} said: ${(probe.stderr || String(probe.error)).trim()})\n`,
    );
    process.exit(2);
  }
}

/** Writes n unit vectors (Gaussian, then normalised) of a fixed seed once; later runs reuse the file. */
async function ensureVectors(file: string, n: number, seed: number): Promise<void> {
  const bytes = n * DIM * 4;
  if (existsSync(file) && statSync(file).size === bytes) return;
  mkdirSync(scratch, { recursive: true });
  const rng = new SeededRandom(seed);
  const handle = await open(`${file}.tmp`, 'w');
  const chunkRows = 16_384;
  for (let start = 0; start < n; start += chunkRows) {
    const rows = Math.min(chunkRows, n - start);
    const chunk = new Float32Array(rows * DIM);
    for (let r = 0; r < rows; r++) {
      let sum = 0;
      for (let j = 0; j < DIM; j++) {
        const x = rng.normal(0, 1);
        chunk[r * DIM + j] = x;
        sum += x * x;
      }
      const inv = 1 / Math.sqrt(sum);
      for (let j = 0; j < DIM; j++) chunk[r * DIM + j] *= inv;
    }
    await handle.write(new Uint8Array(chunk.buffer));
  }
  await handle.close();
  execFileSync('mv', [`${file}.tmp`, file]);
}

function readRows(file: string, n: number): Float32Array {
  const handle = readFileSync(file);
  const out = new Float32Array(n * DIM);
  new Uint8Array(out.buffer).set(handle.subarray(0, n * DIM * 4));
  return out;
}

const row = (m: Float32Array, i: number) => m.subarray(i * DIM, (i + 1) * DIM);

async function fill(store: VectorStore, base: Float32Array, n: number): Promise<void> {
  for (let start = 0; start < n; start += 50_000) {
    const end = Math.min(n, start + 50_000);
    const records = [];
    for (let i = start; i < end; i++) records.push({ id: String(i), vector: row(base, i), path: `/bench/${i}.png` });
    await store.upsert(MODEL, records);
  }
}

interface Latency {
  p50_ms: number;
  p99_ms: number;
  mean_ms: number;
}

function percentile(sorted: number[], p: number): number {
  // Linear interpolation, as numpy.percentile does, so both sides use one definition.
  const pos = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

async function measure(store: VectorStore, queries: Float32Array): Promise<{ latency: Latency; ids: number[][]; qps: number }> {
  for (let i = 0; i < 3; i++) await store.search(MODEL, row(queries, i), K);
  const times: number[] = [];
  const ids: number[][] = [];
  for (let i = 0; i < NQ; i++) {
    const t0 = performance.now();
    const hits = await store.search(MODEL, row(queries, i), K);
    times.push(performance.now() - t0);
    ids.push(hits.map((h) => Number(h.id)));
  }
  // Throughput: every query issued at once (LanceDB runs them on its thread pool).
  const t0 = performance.now();
  await Promise.all(Array.from({ length: NQ }, (_, i) => store.search(MODEL, row(queries, i), K)));
  const qps = NQ / ((performance.now() - t0) / 1000);
  const sorted = [...times].sort((a, b) => a - b);
  const mean = times.reduce((s, t) => s + t, 0) / times.length;
  return { latency: { p50_ms: percentile(sorted, 50), p99_ms: percentile(sorted, 99), mean_ms: mean }, ids, qps };
}

function recall(found: number[][], truth: number[][]): number {
  let hit = 0;
  found.forEach((ids, i) => {
    const t = new Set(truth[i]);
    hit += ids.filter((id) => t.has(id)).length;
  });
  return hit / (truth.length * K);
}

interface FaissResult {
  faiss_version: string;
  compile_options: string;
  threads: number;
  flat: Latency & { qps_batch: number };
  ivf: { nlist: number; build_s: number; sweep: (Latency & { nprobe: number; recall: number; qps_batch: number })[] };
}

const LANCE_INDEX = (process.env.BENCH_LANCE_INDEX ?? 'ivf_pq') as 'ivf_pq' | 'ivf_hnsw_sq';

/**
 * LanceDB index settings for n rows. IVF-PQ: ~sqrt(n) cells, 128 sub-vectors of 4 dims (64 of 8
 * dims capped recall@10 at 0.82 on this data even with every cell probed), exact re-rank of
 * refineFactor x k candidates. IVF-HNSW-SQ (opt-in): one HNSW graph over 8-bit scalars; it took
 * 310 s to build at 100k and reached recall 0.36 at ef 400 here, so it is not the default.
 */
function lanceParams(n: number): LanceIndexOptions {
  if (LANCE_INDEX === 'ivf_hnsw_sq') {
    return { type: 'ivf_hnsw_sq', numPartitions: Number(process.env.BENCH_PARTITIONS ?? 1), m: 16, efConstruction: 100 };
  }
  return {
    type: 'ivf_pq',
    numPartitions: Number(process.env.BENCH_PARTITIONS ?? Math.round(Math.sqrt(n))),
    numSubVectors: DIM / 4,
    maxIterations: 10,
    sampleRate: 32,
    refineFactor: Number(process.env.BENCH_REFINE ?? 50),
  };
}

/** Query-time settings tried in order (cheapest first) until recall reaches the target. */
function* searchLadder(config: { type: string; numPartitions?: number }): Generator<{ nprobes: number; ef?: number }> {
  const cells = config.numPartitions ?? 1;
  if (config.type === 'ivf_hnsw_sq') {
    for (let ef = 20; ef <= 2560; ef *= 2) yield { nprobes: cells, ef };
    return;
  }
  // Random vectors have no cluster structure: below a quarter of the cells recall@10 stayed
  // under 0.5 at 10k and 100k, so the ladder starts there.
  for (let nprobes = Math.max(1, Math.round(cells / 4)); nprobes < cells; nprobes *= 2) yield { nprobes };
  yield { nprobes: cells };
}

async function benchSize(n: number, baseFile: string, queryFile: string, queries: Float32Array): Promise<void> {
  process.stderr.write(`\n== ${n} vectors x ${DIM} ==\n`);
  const flatIdsFile = path.join(scratch, `faiss-flat-ids-${n}.i32`);
  const t0 = performance.now();
  const faiss: FaissResult = JSON.parse(
    execFileSync(
      PYTHON,
      [path.join(here, 'faiss_bench.py'), baseFile, String(n), String(DIM), queryFile, String(NQ), String(K), flatIdsFile],
      {
        encoding: 'utf8',
        maxBuffer: 1 << 24,
      },
    ),
  );
  process.stderr.write(`faiss done in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  // Small files come back as views into Node's shared pool: copy exactly the file's bytes.
  const idBytes = readFileSync(flatIdsFile);
  const flatIds = new Int32Array(idBytes.buffer.slice(idBytes.byteOffset, idBytes.byteOffset + idBytes.byteLength));
  const faissTruth = Array.from({ length: NQ }, (_, i) => Array.from(flatIds.subarray(i * K, (i + 1) * K)));

  const base = readRows(baseFile, n);
  const exact = await ExactStore.create({ modelId: MODEL, dim: DIM });
  await fill(exact, base, n);
  const ex = await measure(exact, queries);
  await exact.close();
  const agreement = recall(ex.ids, faissTruth);
  process.stderr.write(`exact: p50 ${ex.latency.p50_ms.toFixed(2)} ms, agreement with FAISS flat ${agreement}\n`);

  await recordExact(n, ex, faiss, agreement);
  if (STORES.has('lance')) await benchLance(n, base, queries, ex.ids, faiss);
}

async function benchLance(n: number, base: Float32Array, queries: Float32Array, truth: number[][], faiss: FaissResult): Promise<void> {
  const lanceDir = path.join(scratch, `lance-${n}`);
  rmSync(lanceDir, { recursive: true, force: true });
  const lance = await LanceStore.create({ modelId: MODEL, dim: DIM, path: lanceDir });
  let t = performance.now();
  await fill(lance, base, n);
  const loadS = (performance.now() - t) / 1000;
  t = performance.now();
  const params = lanceParams(n);
  const config = await lance.buildIndex(params);
  const buildS = (performance.now() - t) / 1000;
  process.stderr.write(`lance: load ${loadS.toFixed(1)} s, index ${buildS.toFixed(1)} s\n`);
  const sweep: (Latency & { nprobes: number; ef?: number; recall: number; qps: number })[] = [];
  for (const params of searchLadder(config)) {
    await lance.setSearchParams(params);
    const m = await measure(lance, queries);
    const point = { ...params, recall: recall(m.ids, truth), ...m.latency, qps: m.qps };
    sweep.push(point);
    process.stderr.write(`lance ${JSON.stringify(params)}: recall ${point.recall.toFixed(3)} p50 ${point.p50_ms.toFixed(2)} ms\n`);
    if (point.recall >= TARGET_RECALL) break;
  }
  await lance.close();

  const ivfPick = faiss.ivf.sweep.at(-1)!;
  const lancePick = sweep.at(-1)!;
  const common = commonDetails(n, faiss);
  await recordBenchmark({
    benchmark: `index-lance-latency-${n}`,
    metric: `query latency p50 at the cheapest setting reaching recall@${K} >= ${TARGET_RECALL} (else the best tried), ${n} x ${DIM}`,
    unit: 'ms',
    ours: lancePick.p50_ms,
    peer: ivfPick.p50_ms,
    peerName: `FAISS IndexIVFFlat (nlist ${faiss.ivf.nlist}, nprobe ${ivfPick.nprobe})`,
    higherIsBetter: false,
    backend: `LanceDB 0.31.0 ${LANCE_INDEX}`,
    details: {
      ...common,
      lance: { index: config, loadSeconds: loadS, indexSeconds: buildS, pick: lancePick, sweep },
      faissIvf: { ...faiss.ivf, pick: ivfPick },
      recallOurs: lancePick.recall,
      recallPeer: ivfPick.recall,
    },
  });
  await recordBenchmark({
    benchmark: `index-lance-throughput-${n}`,
    metric: `queries/s, ${NQ} queries at once, same settings, ${n} x ${DIM}`,
    unit: 'queries/s',
    ours: lancePick.qps,
    peer: ivfPick.qps_batch,
    peerName: `FAISS IndexIVFFlat batch search (nprobe ${ivfPick.nprobe}, ${faiss.threads} threads)`,
    higherIsBetter: true,
    backend: `LanceDB 0.31.0 ${LANCE_INDEX}`,
    details: { ...common, recallOurs: lancePick.recall, recallPeer: ivfPick.recall },
  });
  rmSync(lanceDir, { recursive: true, force: true });
}

function commonDetails(n: number, faiss: FaissResult) {
  return {
    vectors: n,
    dim: DIM,
    queries: NQ,
    k: K,
    data: 'random Gaussian, L2-normalised (seeded)',
    faissVersion: faiss.faiss_version,
    faissBuild: faiss.compile_options,
  };
}

async function recordExact(n: number, ex: Awaited<ReturnType<typeof measure>>, faiss: FaissResult, agreement: number): Promise<void> {
  const common = commonDetails(n, faiss);
  await recordBenchmark({
    benchmark: `index-exact-latency-${n}`,
    metric: `query latency p50, ${n} x ${DIM}, top-${K}`,
    unit: 'ms',
    ours: ex.latency.p50_ms,
    peer: faiss.flat.p50_ms,
    peerName: 'FAISS IndexFlatIP',
    higherIsBetter: false,
    backend: 'node (ExactStore, one thread)',
    details: { ...common, ours: ex.latency, peer: faiss.flat, agreementWithFaissFlat: agreement },
  });
  await recordBenchmark({
    benchmark: `index-exact-throughput-${n}`,
    metric: `queries/s, ${NQ} queries at once, ${n} x ${DIM}`,
    unit: 'queries/s',
    ours: ex.qps,
    peer: faiss.flat.qps_batch,
    peerName: `FAISS IndexFlatIP batch search (${faiss.threads} threads)`,
    higherIsBetter: true,
    backend: 'node (ExactStore, one thread)',
    details: common,
  });
}

async function main(): Promise<void> {
  requireFaiss();
  const maxN = Math.max(...sizes);
  const baseFile = path.join(scratch, `base-seed${SEED}-${DIM}d-${maxN}.f32`);
  const queryFile = path.join(scratch, `queries-seed${SEED + 1}-${DIM}d-${NQ}.f32`);
  await ensureVectors(baseFile, maxN, SEED);
  await ensureVectors(queryFile, NQ, SEED + 1);
  if (process.env.BENCH_PREPARE_ONLY) return; // only write the scratch vectors
  const queries = readRows(queryFile, NQ);
  // Smaller sizes use a prefix of the largest file: one generation, the same vectors everywhere.
  for (const n of sizes) await benchSize(n, baseFile, queryFile, queries);
}

await main();
