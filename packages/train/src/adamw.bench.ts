/**
 * AdamW step time on a tiny-CLIP-sized parameter set: Tessera's AdamW (tfjs, current backend)
 * against torch.optim.AdamW (PyTorch 1.13, one thread) on the same shapes in the same run.
 * Run: npm run bench -w @tessera/train
 */
import { spawnSync } from 'node:child_process';
import {
  backendInfo,
  initBackend,
  type ParameterInfo,
  recordBenchmark,
  SeededRandom,
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
const STEPS = 40;

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
const opt = new AdamW(params, { lr: 1e-3, weightDecay: 0.1 });
for (let i = 0; i < WARMUP; i++) opt.apply(grads);
await params.get('p0')?.variable.data();
const start = performance.now();
for (let i = 0; i < STEPS; i++) opt.apply(grads);
await params.get(`p${SHAPES.length - 1}`)?.variable.data();
const ours = (performance.now() - start) / STEPS;

const python = `
import time, torch
torch.set_num_threads(1)
shapes = ${JSON.stringify(SHAPES)}
ps = [torch.nn.Parameter(torch.randn(s) * 0.02) for s in shapes]
for p in ps: p.grad = torch.randn(p.shape) * 1e-3
opt = torch.optim.AdamW([{"params": [p for p in ps if p.dim() > 1], "weight_decay": 0.1}, {"params": [p for p in ps if p.dim() <= 1], "weight_decay": 0.0}], lr=1e-3)
for _ in range(${WARMUP}): opt.step()
t = time.perf_counter()
for _ in range(${STEPS}): opt.step()
print((time.perf_counter() - t) / ${STEPS} * 1000)
`;
const run = spawnSync('/usr/bin/python3', ['-c', python], { encoding: 'utf8', env: (torchPeerSettings(1)[0] as TorchPeerSetting).env });
if (run.status !== 0) throw new Error(`PyTorch peer failed: ${run.stderr}`);
const peer = Number(run.stdout.trim());
const result = await recordBenchmark({
  benchmark: 'train-adamw-step',
  metric: 'AdamW step time',
  unit: 'ms',
  ours,
  peer,
  peerName: 'torch.optim.AdamW 1.13 (1 thread)',
  higherIsBetter: false,
  backend: backendInfo().name,
  details: { parameters: count, tensors: SHAPES.length, steps: STEPS },
});
console.log(
  `AdamW step, ${count.toLocaleString('en-US')} parameters in ${SHAPES.length} tensors: ours ${ours.toFixed(2)} ms, PyTorch ${peer.toFixed(2)} ms (ratio ${result.ratio.toFixed(2)})`,
);
opt.dispose();
tf.dispose([...grads.values(), ...[...params.values()].map((p) => p.variable)]);
