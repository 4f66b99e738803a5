/**
 * AdamW step time on a tiny-CLIP-sized parameter set: Tessera's AdamW (tfjs, current backend)
 * against torch.optim.AdamW (PyTorch 2.13 from .venv-ref, one thread) on the same shapes, parameters
 * and gradients in the same run; the first step's parameters must agree before anything is timed.
 * Run: npm run bench -w @tessera/train
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  backendInfo,
  initBackend,
  type ParameterInfo,
  recordBenchmark,
  referencePython,
  SeededRandom,
  spread,
  TesseraError,
  type TorchPeerSetting,
  tf,
  torchPeerSettings,
} from '@tessera/core';
import { AdamW } from './adamw.js';

const SHAPES: number[][] = [
  [1000, 128],
  ...Array.from({ length: 8 }, () => [256, 256]),
  ...Array.from({ length: 8 }, () => [256]),
  [128, 128],
];
const WARMUP = 5;
const STEPS = 10;
const REPS = 7;
const TOLERANCE = 1e-6;

await initBackend({ backend: 'auto' });
const rng = new SeededRandom(0);
const params = new Map<string, ParameterInfo>();
const grads = new Map<string, tf.Tensor>();
SHAPES.forEach((shape, i) => {
  const size = shape.reduce((a, b) => a * b, 1);
  params.set(`p${i}`, {
    variable: tf.variable(
      tf.tensor(
        rng.array(size, (r) => r.normal(0, 0.02)),
        shape,
      ),
    ),
    trainable: true,
    decay: shape.length > 1,
  });
  grads.set(
    `p${i}`,
    tf.tensor(
      rng.array(size, (r) => r.normal(0, 1e-3)),
      shape,
    ),
  );
});
const count = SHAPES.reduce((s, shape) => s + shape.reduce((a, b) => a * b, 1), 0);
const concat = (tensors: tf.Tensor[]) => Float32Array.from(tensors.flatMap((t) => Array.from(t.dataSync() as Float32Array)));
const dir = mkdtempSync(path.join(os.tmpdir(), 'tessera-adamw-bench-'));
writeFileSync(path.join(dir, 'params.f32'), concat([...params.values()].map((p) => p.variable)));
writeFileSync(path.join(dir, 'grads.f32'), concat([...grads.values()]));
const opt = new AdamW(params, { lr: 1e-3, weightDecay: 0.1 });
opt.apply(grads); // the first step is the one checked against PyTorch's
writeFileSync(path.join(dir, 'expected.f32'), concat([...params.values()].map((p) => p.variable)));
for (let i = 1; i < WARMUP; i++) opt.apply(grads);
await params.get('p0')?.variable.data();
const oursTimes: number[] = [];
for (let rep = 0; rep < REPS; rep++) {
  const start = performance.now();
  for (let i = 0; i < STEPS; i++) opt.apply(grads);
  await params.get(`p${SHAPES.length - 1}`)?.variable.data();
  oursTimes.push((performance.now() - start) / STEPS);
}
const ours = spread(oursTimes);

// Same initial parameters and gradients; the first step must match Tessera's before timing.
const python = `
import json, sys, time
import numpy as np, torch
torch.set_num_threads(1)
shapes = ${JSON.stringify(SHAPES)}
def split(flat):
    out, at = [], 0
    for s in shapes:
        n = int(np.prod(s)); out.append(torch.from_numpy(flat[at:at + n].reshape(s).copy())); at += n
    return out
d = sys.argv[1]
ps = [torch.nn.Parameter(t) for t in split(np.fromfile(d + "/params.f32", dtype="<f4"))]
for p, g in zip(ps, split(np.fromfile(d + "/grads.f32", dtype="<f4"))): p.grad = g
opt = torch.optim.AdamW([{"params": [p for p in ps if p.dim() > 1], "weight_decay": 0.1}, {"params": [p for p in ps if p.dim() <= 1], "weight_decay": 0.0}], lr=1e-3)
opt.step()
expected = split(np.fromfile(d + "/expected.f32", dtype="<f4"))
diff = max(float((p.detach() - e).abs().max()) for p, e in zip(ps, expected))
if diff > ${TOLERANCE}:
    sys.exit(f"first AdamW step differs from Tessera's: max abs diff {diff}")
for _ in range(${WARMUP - 1}): opt.step()
times = []
for _ in range(${REPS}):
    t = time.perf_counter()
    for _ in range(${STEPS}): opt.step()
    times.append((time.perf_counter() - t) / ${STEPS} * 1000)
print(json.dumps({"ms": times, "maxAbsDiff": diff, "torch": torch.__version__}))
`;
const run = spawnSync(referencePython(), ['-c', python, dir], { encoding: 'utf8', env: (torchPeerSettings(1)[0] as TorchPeerSetting).env });
rmSync(dir, { recursive: true, force: true });
if (run.status !== 0) throw new TesseraError('E_BENCH_PEER', `PyTorch peer failed: ${run.stderr}`);
const out = JSON.parse(run.stdout.trim().split('\n').at(-1) as string) as { ms: number[]; maxAbsDiff: number; torch: string };
const peer = spread(out.ms);
const result = await recordBenchmark({
  benchmark: 'train-adamw-step',
  metric: `AdamW step time, median of ${REPS} x ${STEPS} steps`,
  unit: 'ms',
  ours: ours.median,
  peer: peer.median,
  peerName: `torch.optim.AdamW, PyTorch ${out.torch} (1 thread)`,
  higherIsBetter: false,
  backend: backendInfo().name,
  details: {
    parameters: count,
    tensors: SHAPES.length,
    steps: STEPS,
    reps: REPS,
    ms: { ours, peer },
    maxAbsDiff: out.maxAbsDiff,
    tolerance: TOLERANCE,
  },
});
console.log(
  `AdamW step, ${count.toLocaleString('en-US')} parameters in ${SHAPES.length} tensors: ours ${ours.median.toFixed(2)} ms, PyTorch ${peer.median.toFixed(2)} ms (ratio ${result.ratio.toFixed(2)})`,
);
opt.dispose();
tf.dispose([...grads.values(), ...[...params.values()].map((p) => p.variable)]);
