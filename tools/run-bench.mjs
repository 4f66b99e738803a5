#!/usr/bin/env node
// `npm run bench`: runs every project's `bench` target through nx, one project at a time so a
// failure is pinned on its project, then rebuilds BENCHMARKS.md from bench-results/*.json.
// Results this run did not regenerate (a failed or skipped benchmark) are listed as stale with
// their date, never shown as current. `-p a,b` limits the run to those projects;
// `--report-only` just rebuilds BENCHMARKS.md from the results already there.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
const reportOnly = args.includes('--report-only');
const only = args.includes('-p') ? args[args.indexOf('-p') + 1].split(',') : null;
const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' };
const runStart = new Date().toISOString();
const loadBefore = os.loadavg()[0];

const failed = [];
if (!reportOnly) {
  const projects = JSON.parse(
    execFileSync('npx', ['nx', 'show', 'projects', '--with-target', 'bench', '--json'], { cwd: root, env, encoding: 'utf8' }),
  );
  for (const project of projects.filter((p) => !only || only.includes(p)).sort()) {
    const child = spawnSync('npx', ['nx', 'run', `${project}:bench`, '--outputStyle=stream', '--skip-nx-cache'], {
      cwd: root,
      stdio: 'inherit',
      env,
    });
    if (child.status !== 0) failed.push(project);
  }
}

const dir = path.join(root, 'bench-results');
// The last full run's window, so `--report-only` still knows which results are stale.
const runFile = path.join(dir, 'run.json');
const run = !reportOnly
  ? { start: runStart, failed, loadBefore, loadAfter: os.loadavg()[0] }
  : existsSync(runFile)
    ? JSON.parse(readFileSync(runFile, 'utf8'))
    : { start: '', failed: [], loadBefore: Number.NaN, loadAfter: Number.NaN };
if (!reportOnly) writeFileSync(runFile, `${JSON.stringify(run, null, 2)}\n`);
const results = existsSync(dir)
  ? readdirSync(dir)
      .filter((f) => f.endsWith('.json') && f !== 'run.json')
      .map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')))
      .sort((a, b) => a.benchmark.localeCompare(b.benchmark))
  : [];
const fresh = (r) => r.date >= run.start;
const fmt = (v) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3));
const header = [
  '| benchmark | metric | ours | compared with | ratio | backend | measured |',
  '| --- | --- | --- | --- | --- | --- | --- |',
];
const row = (r) =>
  `| ${r.benchmark} | ${r.metric} | ${fmt(r.ours)} ${r.unit} | ${fmt(r.peer)} ${r.unit} (${r.peerName}) | **${r.ratio.toFixed(3)}** | ${r.backend} | ${r.date.slice(0, 10)} |`;
const table = (rows) => (rows.length > 0 ? [...header, ...rows.map(row)] : ['None.']);
const current = results.filter(fresh);
const stale = results.filter((r) => !fresh(r));
const machines = [...new Set(current.map((r) => r.machine?.cpu).filter(Boolean))];

// Workloads measured against several peers (details.workload, details.peerKind: one JSON per
// peer): one row each, every peer in its own column, Tessera's ratio taken against the strongest
// float32 peer (a lower-precision peer such as bf16 autocast is shown, not used for the ratio).
const PEER_COLUMNS = ['PyTorch float32', 'PyTorch bf16 autocast', 'onnxruntime float32'];
const workloads = new Map();
for (const r of current.filter((r) => r.details?.workload && r.details?.peerKind)) {
  const w = workloads.get(r.details.workload) ?? { ours: r.ours, unit: r.unit, higherIsBetter: r.higherIsBetter, peers: {}, rows: [] };
  w.peers[r.details.peerKind] = r.peer;
  w.rows.push(r);
  workloads.set(r.details.workload, w);
}
const load = (rows) => {
  const values = rows.flatMap((r) => [
    ...(r.machine?.loadAverage?.start ?? []).slice(0, 1),
    ...(r.machine?.loadAverage?.end ?? []).slice(0, 1),
  ]);
  return values.length > 0 ? `${Math.min(...values).toFixed(2)}-${Math.max(...values).toFixed(2)}` : '?';
};
const peerTable =
  workloads.size === 0
    ? []
    : [
        '## Model inference against every peer',
        '',
        'One row per workload, every peer on the same weights, batch and threads; the onnxruntime graph is the PyTorch module',
        'exported with `torch.onnx.export`. Float32 peers agree with Tessera within 1e-4 before anything is timed; bf16 autocast',
        'is a different precision (its embedding cosine to float32 is in the detailed row), so the ratio is taken against the',
        'strongest **float32** peer. Medians of the rounds; min-max in each JSON file.',
        '',
        `| workload | Tessera | ${PEER_COLUMNS.join(' | ')} | Tessera / strongest float32 peer | load average (1 min) |`,
        `| --- | --- | ${PEER_COLUMNS.map(() => '---').join(' | ')} | --- | --- |`,
        ...[...workloads.entries()].map(([name, w]) => {
          const fp32 = Object.entries(w.peers).filter(([kind]) => kind.endsWith('float32'));
          const strongest = fp32.reduce((a, b) => (a === null || (w.higherIsBetter ? b[1] > a[1] : b[1] < a[1]) ? b : a), null);
          const ratio =
            strongest === null
              ? '-'
              : `**${(w.higherIsBetter ? w.ours / strongest[1] : strongest[1] / w.ours).toFixed(3)}** (${strongest[0]})`;
          const cells = PEER_COLUMNS.map((kind) => (w.peers[kind] === undefined ? '-' : fmt(w.peers[kind])));
          return `| ${name} (${w.unit}) | ${fmt(w.ours)} | ${cells.join(' | ')} | ${ratio} | ${load(w.rows)} |`;
        }),
        '',
        ...[...new Set(current.map((r) => r.details?.cpuBf16).filter(Boolean))].map(
          (flags) => `bf16 instructions of the CPU these ran on (/proc/cpuinfo): ${flags}.`,
        ),
        "Caption decoding with GIT has no onnxruntime row yet; the video captioner's decode has one",
        '(captioner-decode-vs-onnxruntime: the same weights exported as an encoder and a decoder step with past keys/values,',
        'and a Python greedy loop around them, which must produce the same tokens).',
        '',
      ];

const lines = [
  '# Benchmarks',
  '',
  'Generated by `npm run bench` from `bench-results/*.json`. Every figure is measured against a peer in the same run on the',
  'same machine; **ratio > 1 means Tessera is better** (ours/peer when higher is better, peer/ours otherwise).',
  'Each JSON file records the shapes, threads and peer versions; those written since 2026-12-03 also record the commit,',
  'the CPU model and the load average when the benchmark started and when it finished.',
  '',
  '## Against other libraries',
  '',
  ...table(current.filter((r) => r.kind !== 'ablation')),
  '',
  ...peerTable,
  '## Ablations (Tessera against itself)',
  '',
  'These compare two Tessera code paths (a cache against none, native kernels against stock tfjs); they are not peers.',
  '',
  ...table(current.filter((r) => r.kind === 'ablation')),
  '',
  ...(run.failed.length > 0
    ? ['## Failed in the last run', '', ...run.failed.map((p) => `- \`${p}:bench\` exited non-zero; its rows are under "Stale".`), '']
    : []),
  ...(stale.length > 0
    ? [
        '## Stale: not regenerated by the last run',
        '',
        'These results are older than the last `npm run bench` (their benchmark failed, or was not run); they are kept',
        'for reference only and are not current figures.',
        '',
        ...table(stale),
        '',
      ]
    : []),
  `Machine: ${machines.length > 0 ? machines.join('; ') : 'see each JSON file'}, ${os.cpus().length} cores, Node ${process.versions.node.split('.')[0]}, no GPU.`,
  run.note ?? `Load average (1 min) ${run.loadBefore.toFixed(2)} when the last run started and ${run.loadAfter.toFixed(2)} when it ended.`,
  'A loaded machine slows both sides of a comparison, but not always equally, so ratios from a busy machine carry more noise than the',
  'spread in each JSON file shows.',
  '',
];
writeFileSync(path.join(root, 'BENCHMARKS.md'), lines.join('\n'));
console.log(
  `BENCHMARKS.md: ${current.length} current, ${stale.length} stale results${failed.length > 0 ? `; failed: ${failed.join(', ')}` : ''}`,
);
process.exit(failed.length > 0 ? 1 : 0);
