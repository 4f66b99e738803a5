/**
 * Store benchmark at 10k, 100k and 1M random 512-d unit vectors, top-10, against FAISS on the
 * same vectors, queries and threads in the same run:
 * - ExactStore against faiss-cpu IndexFlatIP: single-query latency (also as GB/s scanned, beside
 *   the machine's stream-read bandwidth) and a batch of all queries in one call (ExactStore's
 *   searchBatch: one native matrix product per block of rows). Both sides' ids and scores are
 *   checked equal before anything is timed; warm-up, then BENCH_REPS repetitions, median and min-max.
 * - ExactStore's int8 scan (int8 first pass, float32 re-rank of 10 x k) against FAISS's
 *   IndexRefineFlat over IndexScalarQuantizer(QT_8bit) with the same re-rank, 1 thread: latency,
 *   each side's recall@10 against the float32 answers, and the bytes a scan reads.
 * - LanceStore's IVF-PQ against the same index in FAISS (IVF-PQ with exact re-rank): same cells,
 *   sub-vectors, re-rank factor and nprobe, each side's recall@10 reported.
 *
 *   npm run bench -w @tessera/index                  # the set bench/all.sh lists
 *   BENCH_SIZES=10000,100000 BENCH_THREADS=2 BENCH_STORES=exact npm run bench -w @tessera/index
 *
 * The peer runs in the reference virtualenv (tools/python/setup-reference-env.sh makes
 * .venv-ref with faiss-cpu; BENCH_PYTHON to use another interpreter).
 * Vectors are generated once with a fixed seed into .bench-scratch/ (gitignored);
 * BENCH_PREPARE_ONLY=1 only writes them.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { backendInfo, initBackend, recordBenchmark, SeededRandom, type Spread, spread, workspaceRoot } from '@tessera/core';
import { batchKernelChosen, ExactStore, type LanceIndexOptions, LanceStore, type SearchHit, type VectorStore } from '../src/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const scratch = path.join(here, '..', '.bench-scratch');
const DIM = 512;
const K = 10;
const SEED = 20_261_129;
const sizes = (process.env.BENCH_SIZES ?? '10000,100000,1000000').split(',').map(Number);
const NQ = Number(process.env.BENCH_QUERIES ?? 100);
/** Threads on both sides: FAISS's OpenMP/OpenBLAS pool and Tessera's native BLAS. */
const THREADS = Number(process.env.BENCH_THREADS ?? 1);
const REPS = Number(process.env.BENCH_REPS ?? 5);
const PYTHON = process.env.BENCH_PYTHON ?? path.join(workspaceRoot(), '.venv-ref', 'bin', 'python');
const PEER_ENV = {
  ...process.env,
  OMP_NUM_THREADS: String(THREADS),
  OPENBLAS_NUM_THREADS: String(THREADS),
  MKL_NUM_THREADS: String(THREADS),
};
const MODEL = 'bench-random-512';
/**
 * `uniform`: Gaussian directions, where no index can prune (every cell is as near as any other).
 * `clustered`: a seeded Gaussian mixture, as embeddings are (CLUSTERS centres, each point its
 * centre plus noise, normalised); queries come from the same mixture.
 */
const DATA = (process.env.BENCH_DATA ?? 'uniform') as 'uniform' | 'clustered';
const CLUSTERS = 1024;
const CLUSTER_NOISE = 0.6;
/** Result names carry the data kind when it is not the uniform default. */
const DATA_SUFFIX = DATA === 'uniform' ? '' : `-${DATA}`;
const TARGET_RECALL = 0.95;
/** Which of our stores to measure (`exact,lance` by default). */
const STORES = new Set((process.env.BENCH_STORES ?? 'exact,lance').split(','));
/** Result names carry the thread count when it is not 1 (both runs can sit side by side). */
const SUFFIX = `${DATA_SUFFIX}${THREADS === 1 ? '' : `-${THREADS}t`}`;

function requireFaiss(): void {
  const probe = spawnSync(PYTHON, ['-c', 'import faiss, numpy'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    process.stderr.write(
      `faiss-cpu is missing, so there is no peer to compare with. Make the reference virtualenv:\n  tools/python/setup-reference-env.sh\nor point BENCH_PYTHON at a python with faiss-cpu, then rerun. (${PYTHON} said: ${(probe.stderr || String(probe.error)).trim()})\n`,
    );
    process.exit(2);
  }
}

/** Runs faiss_bench.py `mode` on the first n base vectors and the queries (the arguments every mode starts with), then `extra`. */
function peer(mode: string, baseFile: string, n: number, queryFile: string, extra: (string | number)[]): Record<string, unknown> {
  const args = [mode, baseFile, n, DIM, queryFile, NQ, K, THREADS, REPS, ...extra].map(String);
  return JSON.parse(
    execFileSync(PYTHON, [path.join(here, 'faiss_bench.py'), ...args], { encoding: 'utf8', env: PEER_ENV, maxBuffer: 1 << 24 }),
  );
}

/** The mixture's centres: one seed for base and queries, so queries fall in the same clusters. */
function clusterCentres(): Float32Array {
  const rng = new SeededRandom(SEED - 1);
  const centres = new Float32Array(CLUSTERS * DIM);
  for (let i = 0; i < centres.length; i++) centres[i] = rng.normal(0, 1 / Math.sqrt(DIM));
  return centres;
}

/** Writes n unit vectors (DATA's distribution) of a fixed seed once; later runs reuse the file. */
async function ensureVectors(file: string, n: number, seed: number): Promise<void> {
  const bytes = n * DIM * 4;
  if (existsSync(file) && statSync(file).size === bytes) return;
  mkdirSync(scratch, { recursive: true });
  const rng = new SeededRandom(seed);
  const centres = DATA === 'clustered' ? clusterCentres() : null;
  const noise = centres ? CLUSTER_NOISE / Math.sqrt(DIM) : 1;
  const handle = await open(`${file}.tmp`, 'w');
  const chunkRows = 16_384;
  for (let start = 0; start < n; start += chunkRows) {
    const rows = Math.min(chunkRows, n - start);
    const chunk = new Float32Array(rows * DIM);
    for (let r = 0; r < rows; r++) {
      let sum = 0;
      const centre = centres ? rng.int(CLUSTERS) * DIM : -1;
      for (let j = 0; j < DIM; j++) {
        const x = rng.normal(0, noise) + (centres ? centres[centre + j] : 0);
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

/** Each query alone, 3 warm-up queries, then REPS passes over all queries (ms per query). */
async function latencies(store: VectorStore, queries: Float32Array): Promise<Spread> {
  for (let i = 0; i < 3; i++) await store.search(MODEL, row(queries, i), K);
  const times: number[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    for (let i = 0; i < NQ; i++) {
      const t0 = performance.now();
      await store.search(MODEL, row(queries, i), K);
      times.push(performance.now() - t0);
    }
  }
  return spread(times);
}

/** Queries/s of all NQ queries in one call (one warm-up call), REPS times. */
async function throughput(batch: () => Promise<unknown>): Promise<Spread> {
  await batch();
  const rates: number[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    const t0 = performance.now();
    await batch();
    rates.push(NQ / ((performance.now() - t0) / 1000));
  }
  return spread(rates);
}

function recall(found: number[][], truth: number[][]): number {
  let hit = 0;
  found.forEach((ids, i) => {
    const t = new Set(truth[i]);
    hit += ids.filter((id) => t.has(id)).length;
  });
  return hit / (truth.length * K);
}

function readTyped<T extends Float32Array | BigInt64Array>(file: string, Type: new (buffer: ArrayBuffer) => T): T {
  // Small files come back as views into Node's shared pool: copy exactly the file's bytes.
  const bytes = readFileSync(file);
  return new Type(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/**
 * Our hits against FAISS's (ids, scores) for every query: ids equal position by position, scores
 * within 1e-4. Two neighbours whose scores differ by less than float32 rounding may come in either
 * order, so a swapped pair is accepted when both sides' scores agree within 1e-6.
 */
function checkEqual(what: string, ours: SearchHit[][], ids: BigInt64Array, scores: Float32Array) {
  let swapped = 0;
  let worst = 0;
  ours.forEach((hits, q) => {
    if (hits.length !== K) throw new Error(`${what}: query ${q} returned ${hits.length} hits, not ${K}`);
    hits.forEach((hit, j) => {
      const peerScore = scores[q * K + j];
      worst = Math.max(worst, Math.abs(hit.score - peerScore));
      if (Number(hit.id) !== Number(ids[q * K + j])) {
        const tie = Math.abs(hit.score - peerScore) < 1e-6;
        if (!tie) throw new Error(`${what}: query ${q} rank ${j}: ours ${hit.id} (${hit.score}) vs FAISS ${ids[q * K + j]} (${peerScore})`);
        swapped++;
      }
    });
  });
  if (worst > 1e-4) throw new Error(`${what}: scores differ from FAISS by up to ${worst}`);
  return { idsEqual: true, swappedNearTies: swapped, maxScoreDiff: worst };
}

const load = () => loadavg().map((x) => Number(x.toFixed(2)));

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
    // Re-ranking reads full vectors row by row, LanceDB's main per-query cost; uniform data needs
    // 50 x k candidates for recall 0.95 (clustered data sweeps it, see searchLadder).
    refineFactor: Number(process.env.BENCH_REFINE ?? 50),
  };
}

/** Query-time settings tried in order (cheapest first) until recall reaches the target. */
function* searchLadder(config: {
  type: string;
  numPartitions?: number;
}): Generator<{ nprobes: number; ef?: number; refineFactor?: number }> {
  const cells = config.numPartitions ?? 1;
  if (config.type === 'ivf_hnsw_sq') {
    for (let ef = 20; ef <= 2560; ef *= 2) yield { nprobes: cells, ef };
    return;
  }
  if (DATA === 'clustered') {
    // A query's neighbours sit in a few cells, but PQ distances barely separate points of one
    // cluster: at 1M, re-ranking 5 x k capped recall@10 at 0.869 for every nprobes from 4 to 512.
    // So the re-rank depth rises first, then the probes.
    for (const refineFactor of [10, 25, 50, 100]) yield { nprobes: 8, refineFactor };
    for (let nprobes = 16; nprobes <= Math.min(cells, 64); nprobes *= 2) yield { nprobes, refineFactor: 100 };
    return;
  }
  // Random vectors have no cluster structure: below a quarter of the cells recall@10 stayed
  // under 0.5 at 10k and 100k, so the ladder starts there.
  for (let nprobes = Math.max(1, Math.round(cells / 4)); nprobes < cells; nprobes *= 2) yield { nprobes };
  yield { nprobes: cells };
}

async function benchSize(n: number, baseFile: string, queryFile: string, queries: Float32Array): Promise<void> {
  process.stderr.write(`\n== ${n} vectors x ${DIM}, ${THREADS} thread(s) ==\n`);
  const prefix = path.join(scratch, `faiss-flat-${n}`);
  const loadBeforePeer = load();
  const faiss = peer('flat', baseFile, n, queryFile, [prefix]) as {
    latency_ms: Spread;
    batch_qps: Spread;
    [key: string]: unknown;
  };
  const loadAfterPeer = load();
  process.stderr.write(
    `faiss: p50 ${faiss.latency_ms.median.toFixed(2)} ms, batch ${faiss.batch_qps.median.toFixed(0)} queries/s; numpy sgemm batch ${(faiss.numpy_batch_qps as Spread).median.toFixed(0)} queries/s\n`,
  );

  const base = readRows(baseFile, n);
  const exact = await ExactStore.create({ modelId: MODEL, dim: DIM });
  await fill(exact, base, n);
  const queryList = Array.from({ length: NQ }, (_, i) => row(queries, i));
  // Outputs first: the same ids (and scores within 1e-4) as FAISS, one at a time and batched.
  const single: SearchHit[][] = [];
  for (const q of queryList) single.push(await exact.search(MODEL, q, K));
  const checks = {
    single: checkEqual(
      'single queries',
      single,
      readTyped(`${prefix}.single.i64`, BigInt64Array),
      readTyped(`${prefix}.single.f32`, Float32Array),
    ),
    batch: checkEqual(
      'batched queries',
      await exact.searchBatch(MODEL, queryList, K),
      readTyped(`${prefix}.batch.i64`, BigInt64Array),
      readTyped(`${prefix}.batch.f32`, Float32Array),
    ),
  };
  const loadBefore = load();
  const latency = await latencies(exact, queries);
  const batch = await throughput(() => exact.searchBatch(MODEL, queryList, K));
  const loadAfter = load();
  await exact.close();
  const kernel = batchKernelChosen(THREADS) ?? 'gemm';
  process.stderr.write(
    `exact: p50 ${latency.median.toFixed(2)} ms, batch ${batch.median.toFixed(0)} queries/s (${kernel}); outputs ${JSON.stringify(checks)}\n`,
  );

  const bandwidth = streamBandwidth(n * DIM);
  const gbs = (ms: number) => (n * DIM * 4) / (ms / 1000) / 1e9;
  const { latency_ms: _l, batch_qps: _b, ...peerInfo } = faiss;
  const common = {
    vectors: n,
    dim: DIM,
    queries: NQ,
    k: K,
    threads: THREADS,
    repetitions: REPS,
    data:
      DATA === 'uniform'
        ? 'random Gaussian, L2-normalised (seeded), float32'
        : `Gaussian mixture of ${CLUSTERS} centres, noise ${CLUSTER_NOISE}, L2-normalised (seeded), float32`,
    peer: peerInfo,
    native: backendInfo().native,
    outputsChecked: checks,
    loadAverage: { peer: { before: loadBeforePeer, after: loadAfterPeer }, ours: { before: loadBefore, after: loadAfter } },
  };
  // A single query runs on one thread on our side, so its peer is FAISS on one thread: the
  // 1-thread run records latency (FAISS on more OpenMP threads only adds barrier waits to one query).
  if (THREADS === 1)
    await recordBenchmark({
      benchmark: `index-exact-latency-${n}${DATA_SUFFIX}`,
      metric: `single-query latency, median of ${REPS} x ${NQ} queries, ${n} x ${DIM}, top-${K}, 1 thread`,
      unit: 'ms',
      ours: latency.median,
      peer: faiss.latency_ms.median,
      peerName: `faiss-cpu ${peerInfo.faiss_version} IndexFlatIP`,
      higherIsBetter: false,
      backend: 'node (ExactStore, WebAssembly SIMD scan)',
      details: {
        ...common,
        ours: latency,
        peerLatency: faiss.latency_ms,
        scannedGBps: { ours: gbs(latency.median), peer: gbs(faiss.latency_ms.median), streamReadGBps: bandwidth },
      },
    });
  await recordBenchmark({
    benchmark: `index-exact-throughput-${n}${SUFFIX}`,
    metric: `queries/s, ${NQ} queries in one call, median of ${REPS}, ${n} x ${DIM}, top-${K}, ${THREADS} thread(s)`,
    unit: 'queries/s',
    ours: batch.median,
    peer: faiss.batch_qps.median,
    peerName: `faiss-cpu ${peerInfo.faiss_version} IndexFlatIP batch search`,
    higherIsBetter: true,
    backend: `node (ExactStore.searchBatch, ${kernel === 'gemm' ? `native ${backendInfo().native.blas} matrix product` : 'WebAssembly SIMD scan'})`,
    details: {
      ...common,
      ours: batch,
      peerThroughput: faiss.batch_qps,
      gflops: { ours: (2 * n * DIM * batch.median) / 1e9, peer: (2 * n * DIM * faiss.batch_qps.median) / 1e9 },
    },
  });
  const truth = single.map((hits) => hits.map((h) => Number(h.id)));
  const truthFile = path.join(scratch, `truth-${n}.i32`);
  writeFileSync(truthFile, new Uint8Array(Int32Array.from(truth.flat()).buffer));
  if (THREADS === 1) await benchInt8(n, base, baseFile, queryFile, queries, truth, truthFile, latency, common);
  if (STORES.has('lance')) await benchLance(n, base, baseFile, queryFile, queries, truth, truthFile);
}

/** Re-rank depth of the int8 scan on both sides: 10 x k candidates (ExactStore's default). */
const INT8_RERANK = 10;

async function benchInt8(
  n: number,
  base: Float32Array,
  baseFile: string,
  queryFile: string,
  queries: Float32Array,
  truth: number[][],
  truthFile: string,
  float32Latency: Spread,
  common: Record<string, unknown>,
): Promise<void> {
  const loadBeforePeer = load();
  const sq8 = peer('sq8', baseFile, n, queryFile, [truthFile, INT8_RERANK]) as {
    latency_ms: Spread;
    recall: number;
    index: string;
    code_bytes: number;
    faiss_version: string;
    [key: string]: unknown;
  };
  const loadAfterPeer = load();
  const store = await ExactStore.create({ modelId: MODEL, dim: DIM, scan: 'int8', rerank: INT8_RERANK });
  await fill(store, base, n);
  const ids: number[][] = [];
  for (let i = 0; i < NQ; i++) ids.push((await store.search(MODEL, row(queries, i), K)).map((h) => Number(h.id)));
  const ours = recall(ids, truth);
  const loadBefore = load();
  const latency = await latencies(store, queries);
  const loadAfter = load();
  await store.close();
  process.stderr.write(
    `exact int8: p50 ${latency.median.toFixed(2)} ms, recall ${ours.toFixed(3)}; faiss ${sq8.index}: p50 ${sq8.latency_ms.median.toFixed(2)} ms, recall ${sq8.recall.toFixed(3)}\n`,
  );
  const { latency_ms: _l, ...peerInfo } = sq8;
  await recordBenchmark({
    benchmark: `index-exact-int8-latency-${n}${DATA_SUFFIX}`,
    metric: `single-query latency, int8 scan + float32 re-rank of ${INT8_RERANK} x k, median of ${REPS} x ${NQ} queries, ${n} x ${DIM}, top-${K}, 1 thread; recall@${K} vs float32: ours ${ours.toFixed(3)}, peer ${sq8.recall.toFixed(3)}`,
    unit: 'ms',
    ours: latency.median,
    peer: sq8.latency_ms.median,
    peerName: `faiss-cpu ${sq8.faiss_version} ${sq8.index}`,
    higherIsBetter: false,
    backend: 'node (ExactStore scan int8, WebAssembly SIMD)',
    details: {
      ...common,
      peer: peerInfo,
      ours: latency,
      peerLatency: sq8.latency_ms,
      recallOurs: ours,
      recallPeer: sq8.recall,
      speedupOverFloat32: float32Latency.median / latency.median,
      scanBytes: { int8: n * (DIM + 4), float32: n * DIM * 4, peerCodes: sq8.code_bytes },
      loadAverage: { peer: { before: loadBeforePeer, after: loadAfterPeer }, ours: { before: loadBefore, after: loadAfter } },
    },
  });
}

/** What one core reads from memory per second (numpy summing `floats` float32s): the ceiling of a single-query scan. */
function streamBandwidth(floats: number): number {
  const script =
    'import numpy as np, sys, time\nb = np.ones(int(sys.argv[1]), dtype="f4"); b.sum()\nt = time.perf_counter()\nfor _ in range(5): b.sum()\nprint(5 * b.nbytes / (time.perf_counter() - t) / 1e9)';
  return Number(execFileSync(PYTHON, ['-c', script, String(floats)], { encoding: 'utf8', env: PEER_ENV }).trim());
}

async function benchLance(
  n: number,
  base: Float32Array,
  baseFile: string,
  queryFile: string,
  queries: Float32Array,
  truth: number[][],
  truthFile: string,
): Promise<void> {
  const lanceDir = path.join(scratch, `lance-${n}`);
  rmSync(lanceDir, { recursive: true, force: true });
  const lance = await LanceStore.create({ modelId: MODEL, dim: DIM, path: lanceDir });
  let t = performance.now();
  await fill(lance, base, n);
  const loadS = (performance.now() - t) / 1000;
  t = performance.now();
  const config = await lance.buildIndex(lanceParams(n));
  const buildS = (performance.now() - t) / 1000;
  process.stderr.write(`lance: load ${loadS.toFixed(1)} s, index ${buildS.toFixed(1)} s\n`);
  const sweep: { nprobes: number; ef?: number; refineFactor?: number; recall: number; latency: Spread; qps: Spread }[] = [];
  for (const params of searchLadder(config)) {
    await lance.setSearchParams(params);
    const ids: number[][] = [];
    for (let i = 0; i < NQ; i++) ids.push((await lance.search(MODEL, row(queries, i), K)).map((h) => Number(h.id)));
    const latency = await latencies(lance, queries);
    // Every query issued at once (LanceDB runs them on its own thread pool).
    const qps = await throughput(() => Promise.all(Array.from({ length: NQ }, (_, i) => lance.search(MODEL, row(queries, i), K))));
    const point = { ...params, recall: recall(ids, truth), latency, qps };
    sweep.push(point);
    process.stderr.write(`lance ${JSON.stringify(params)}: recall ${point.recall.toFixed(3)} p50 ${latency.median.toFixed(2)} ms\n`);
    if (point.recall >= TARGET_RECALL) break;
  }
  await lance.close();
  const diskBytes = Number(execFileSync('du', ['-sb', lanceDir], { encoding: 'utf8' }).split('\t')[0]);
  rmSync(lanceDir, { recursive: true, force: true });
  const pick = sweep.at(-1)!;
  // The same index in FAISS, probed as LanceDB's pick: same cells, PQ, re-rank and nprobe.
  const cfg = config as { numPartitions?: number; numSubVectors?: number; refineFactor?: number };
  const ivf = peer('ivf', baseFile, n, queryFile, [
    truthFile,
    cfg.numPartitions ?? 1,
    pick.nprobes,
    cfg.numSubVectors ?? DIM / 8,
    pick.refineFactor ?? cfg.refineFactor ?? 10,
  ]) as { latency_ms: Spread; batch_qps: Spread; recall: number; index: string; nprobe: number; [key: string]: unknown };
  process.stderr.write(
    `faiss ${ivf.index} nprobe ${ivf.nprobe}: recall ${ivf.recall.toFixed(3)} p50 ${ivf.latency_ms.median.toFixed(2)} ms\n`,
  );
  const common = {
    vectors: n,
    dim: DIM,
    queries: NQ,
    k: K,
    threads: THREADS,
    lance: { index: config, loadSeconds: loadS, indexSeconds: buildS, diskBytes, pick, sweep },
    faiss: ivf,
  };
  await recordBenchmark({
    benchmark: `index-lance-latency-${n}${SUFFIX}`,
    metric: `query latency median, the same IVF-PQ index (cells, sub-vectors, re-rank, nprobe) on both sides, ${n} x ${DIM}; recall@${K}: ours ${pick.recall.toFixed(3)}, peer ${ivf.recall.toFixed(3)}`,
    unit: 'ms',
    ours: pick.latency.median,
    peer: ivf.latency_ms.median,
    peerName: `faiss-cpu ${ivf.faiss_version} ${ivf.index}, nprobe ${ivf.nprobe}`,
    higherIsBetter: false,
    backend: `LanceDB 0.31.0 ${LANCE_INDEX}`,
    details: { ...common, recallOurs: pick.recall, recallPeer: ivf.recall },
  });
  await recordBenchmark({
    benchmark: `index-lance-throughput-${n}${SUFFIX}`,
    metric: `queries/s, ${NQ} queries at once, the same IVF-PQ index on both sides, ${n} x ${DIM}`,
    unit: 'queries/s',
    ours: pick.qps.median,
    peer: ivf.batch_qps.median,
    peerName: `faiss-cpu ${ivf.faiss_version} ${ivf.index} batch search, nprobe ${ivf.nprobe}`,
    higherIsBetter: true,
    backend: `LanceDB 0.31.0 ${LANCE_INDEX}`,
    details: { ...common, recallOurs: pick.recall, recallPeer: ivf.recall },
  });
  if (process.env.BENCH_HNSW !== '0') await benchHnswPeer(n, baseFile, queryFile, truthFile, pick, common);
}

/**
 * FAISS's graph index as a second ANN peer: IndexHNSWFlat, efSearch raised until its recall@10
 * reaches at least LanceDB's pick, so the latencies compare at equal recall.
 */
async function benchHnswPeer(
  n: number,
  baseFile: string,
  queryFile: string,
  truthFile: string,
  pick: { recall: number; latency: Spread },
  common: Record<string, unknown>,
): Promise<void> {
  const hnsw = peer('hnsw', baseFile, n, queryFile, [truthFile, pick.recall]) as {
    latency_ms: Spread;
    recall: number;
    index: string;
    build_s: number;
    [key: string]: unknown;
  };
  process.stderr.write(
    `faiss ${hnsw.index}: recall ${hnsw.recall.toFixed(3)} p50 ${hnsw.latency_ms.median.toFixed(2)} ms, build ${hnsw.build_s.toFixed(0)} s\n`,
  );
  await recordBenchmark({
    benchmark: `index-ann-vs-hnsw-latency-${n}${SUFFIX}`,
    metric: `query latency median at equal recall@${K} (ours ${pick.recall.toFixed(3)}, peer ${hnsw.recall.toFixed(3)}), ${n} x ${DIM}`,
    unit: 'ms',
    ours: pick.latency.median,
    peer: hnsw.latency_ms.median,
    peerName: `faiss-cpu ${hnsw.faiss_version} ${hnsw.index}`,
    higherIsBetter: false,
    backend: `LanceDB 0.31.0 ${LANCE_INDEX}`,
    details: { ...common, hnsw, recallOurs: pick.recall, recallPeer: hnsw.recall },
  });
}

async function main(): Promise<void> {
  requireFaiss();
  await initBackend({ backend: 'wasm', threads: THREADS });
  const maxN = Math.max(...sizes);
  const baseFile = path.join(scratch, `base-${DATA}-seed${SEED}-${DIM}d-${maxN}.f32`);
  const queryFile = path.join(scratch, `queries-${DATA}-seed${SEED + 1}-${DIM}d-${NQ}.f32`);
  await ensureVectors(baseFile, maxN, SEED);
  await ensureVectors(queryFile, NQ, SEED + 1);
  if (process.env.BENCH_PREPARE_ONLY) return; // only write the scratch vectors
  const queries = readRows(queryFile, NQ);
  // Smaller sizes use a prefix of the largest file: one generation, the same vectors everywhere.
  for (const n of sizes) await benchSize(n, baseFile, queryFile, queries);
}

await main();
