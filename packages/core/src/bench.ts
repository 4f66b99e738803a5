import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
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

export async function recordBenchmark(result: Omit<BenchmarkResult, 'ratio' | 'date'>): Promise<BenchmarkResult> {
  const ratio = result.higherIsBetter ? result.ours / result.peer : result.peer / result.ours;
  const full: BenchmarkResult = { ...result, ratio, date: new Date().toISOString() };
  const dir = process.env.TESSERA_BENCH_DIR ?? path.join(workspaceRoot(), 'bench-results');
  await writeFileAtomic(path.join(dir, `${result.benchmark}.json`), `${JSON.stringify(full, null, 2)}\n`);
  process.stderr.write(
    `[bench] ${result.benchmark}: ${result.metric} ours ${result.ours.toPrecision(4)} ${result.unit} vs ${result.peerName} ${result.peer.toPrecision(4)} -> ratio ${ratio.toFixed(3)}\n`,
  );
  return full;
}
