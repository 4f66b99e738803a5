import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TesseraError } from './errors.js';
import { writeFileAtomic } from './fs.js';

/**
 * One benchmark figure, always against a peer measured in the same run.
 * Written to `<workspace>/bench-results/<benchmark>.json`; `npm run bench` gathers them
 * into BENCHMARKS.md.
 */
export interface BenchmarkResult {
  benchmark: string;
  metric: string;
  unit: string;
  ours: number;
  peer: number;
  peerName: string;
  /** ours / peer for higher-is-better metrics, peer / ours otherwise: > 1 means we win. */
  ratio: number;
  higherIsBetter: boolean;
  backend: string;
  date: string;
  /** 'peer' (another library; the default) or 'ablation' (Tessera against another Tessera path). */
  kind?: 'peer' | 'ablation';
  /** Where and on what it ran, so a figure can be traced to its commit and to a busy machine. */
  machine?: { cpu: string; cores: number; node: string; commit: string | null; loadAverage: { start: number[]; end: number[] } };
  /** Shapes, versions, threads: whatever a reader needs to reproduce the figure. */
  details?: Record<string, unknown>;
}

/** The nearest directory above `from` whose package.json declares workspaces. */
export function workspaceRoot(from = process.cwd()): string {
  let dir = path.resolve(from);
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).workspaces) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}

/** The load average when this process (one benchmark script) started. */
const loadAtStart = os.loadavg().map((x) => Number(x.toFixed(2)));

function commit(): string | null {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: workspaceRoot(),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    const dirty =
      execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: workspaceRoot(), encoding: 'utf8' }).trim() !== '';
    return dirty ? `${sha}+changes` : sha;
  } catch {
    return null;
  }
}

/**
 * Completes a figure (ratio, date, and the machine: CPU, cores, Node, git commit, load average;
 * `kind` defaults to 'peer'), writes it atomically to `<benchmark>.json` in `TESSERA_BENCH_DIR`
 * (default `<workspace>/bench-results`), prints a one-line summary on stderr, and returns it.
 */
export async function recordBenchmark(result: Omit<BenchmarkResult, 'ratio' | 'date' | 'machine'>): Promise<BenchmarkResult> {
  const ratio = result.higherIsBetter ? result.ours / result.peer : result.peer / result.ours;
  const machine = {
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.cpus().length,
    node: process.version,
    commit: commit(),
    loadAverage: { start: loadAtStart, end: os.loadavg().map((x) => Number(x.toFixed(2))) },
  };
  const full: BenchmarkResult = { kind: 'peer', ...result, ratio, date: new Date().toISOString(), machine };
  const dir = process.env.TESSERA_BENCH_DIR ?? path.join(workspaceRoot(), 'bench-results');
  await writeFileAtomic(path.join(dir, `${result.benchmark}.json`), `${JSON.stringify(full, null, 2)}\n`);
  process.stderr.write(
    `[bench] ${result.benchmark}: ${result.metric} ours ${result.ours.toPrecision(4)} ${result.unit} vs ${result.peerName} ${result.peer.toPrecision(4)} -> ratio ${ratio.toFixed(3)}\n`,
  );
  return full;
}

/**
 * glibc hands every freed block over 32 MB back to the OS, so a PyTorch op on large tensors
 * page-faults its output in again each call (x + 1 on 2048 x 8000 floats: 549 ms against 3.9 ms
 * here). PyTorch's CPU tuning guide recommends a caching allocator; these settings make glibc
 * keep freed memory instead, so the peer is timed on its kernels, not on page faults.
 */
const PEER_MALLOC = {
  MALLOC_MMAP_THRESHOLD_: String(2 ** 34),
  MALLOC_TRIM_THRESHOLD_: String(2 ** 34),
  MALLOC_TOP_PAD_: String(2 ** 30),
};

/** One way to run a PyTorch peer: its intra-op threads and the environment that bounds its BLAS pool. */
export interface TorchPeerSetting {
  torchThreads: number;
  env: NodeJS.ProcessEnv;
}

/**
 * The settings to try for a PyTorch peer at `threads` threads; a benchmark keeps the fastest.
 * torch.set_num_threads does not bound OpenBLAS's own pool (unbounded, a "1 thread" peer runs
 * BLAS on every core), and both pools at N threads oversubscribe the cores (2.3x slower here at
 * 2 threads), so each setting gives the threads to one pool: torch's intra-op threads, or BLAS
 * threads under single-threaded torch (as Tessera's own multi-threaded mode).
 */
export function torchPeerSettings(threads: number): TorchPeerSetting[] {
  const pin = (torchThreads: number, blasThreads: number): TorchPeerSetting => ({
    torchThreads,
    env: {
      ...process.env,
      OMP_NUM_THREADS: String(torchThreads),
      MKL_NUM_THREADS: String(torchThreads),
      OPENBLAS_NUM_THREADS: String(blasThreads),
      ...PEER_MALLOC,
    },
  });
  return threads === 1 ? [pin(1, 1)] : [pin(threads, 1), pin(1, threads)];
}

/**
 * The Python that runs the benchmark peers: TESSERA_PYTHON, else the workspace's .venv-ref
 * (tools/python/setup-reference-env.sh: torch 2.13, transformers, tokenizers, faiss-cpu,
 * onnxruntime, pillow). Never Debian's python3: its torch 1.13 is not the peer users pick.
 */
export function referencePython(): string {
  const chosen = process.env.TESSERA_PYTHON ?? path.join(workspaceRoot(), '.venv-ref', 'bin', 'python');
  if (!existsSync(chosen)) {
    throw new TesseraError(
      'E_BENCH_PEER',
      `no reference Python at ${chosen}: run tools/python/setup-reference-env.sh (creates .venv-ref), or set TESSERA_PYTHON`,
    );
  }
  return chosen;
}

/**
 * What actually runs the native matrix products, for a result's `backend`: the addon's built-in
 * GEMM runs every product narrower than 384 (output or reduction), OpenBLAS only the wider ones
 * where it is linked, so a run is never labelled OpenBLAS when the built-in kernel did most of it.
 */
export function nativeGemmLabel(blas: string | null, threads: number): string {
  const pool = `${threads} thread${threads > 1 ? 's' : ''}`;
  if (blas === null) return 'no native kernels';
  return blas === 'openblas' ? `built-in GEMM, OpenBLAS for products >= 384 wide, ${pool}` : `built-in GEMM (${blas}), ${pool}`;
}
