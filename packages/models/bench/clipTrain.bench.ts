/**
 * CLIP training throughput: Tessera's `clip-tiny` (one AdamW step on B images and 2B captions,
 * an English and a Chinese caption per image, as in `npm run demo`) against the same model in
 * PyTorch 2.13 from .venv-ref (bench/torch_clip.py), which starts from Tessera's weights and
 * inputs and must reach the same first-step loss before it is timed. Both with 1 thread and both
 * with 2 (BLAS threads for Tessera's native kernels; for PyTorch the faster of intra-op or BLAS
 * threads, the other pool pinned to 1). Warm-up steps, then STEPS timed steps each side; the
 * metric is training images per second at the median step, min-max in details.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  initBackend,
  NATIVE_KERNELS,
  recordBenchmark,
  referencePython,
  SeededRandom,
  spread,
  TesseraError,
  tf,
  torchPeerSettings,
} from '@tessera/core';
import { AdamW, valueAndGrads } from '@tessera/train';
import { createModel, type DualEncoder, MODEL_FILES, modelConfig, saveModel } from '../src/index.js';

const BATCH = 128;
const TEXT_LENGTH = 16;
const VOCAB = 7309; // the demo's WordPiece vocabulary size
const STEPS = Number(process.env.TESSERA_BENCH_STEPS ?? 7);
const TOLERANCE = 1e-4;

const info = await initBackend();
const config = { ...modelConfig('clip-tiny'), text: { ...modelConfig('clip-tiny').text, vocabSize: VOCAB } };
const created = createModel(config);
const clip = created.model as DualEncoder;
const dir = mkdtempSync(path.join(os.tmpdir(), 'tessera-clip-train-bench-'));
await saveModel(path.join(dir, 'model'), created);
const rng = new SeededRandom(0);
const size = config.vision.imageSize;
const images = tf.tensor4d(
  rng.array(BATCH * 3 * size * size, (r) => r.normal()),
  [BATCH, 3, size, size],
);
const ids = tf.tensor2d(
  rng.array(2 * BATCH * TEXT_LENGTH, (r) => 5 + r.int(VOCAB - 5)),
  [2 * BATCH, TEXT_LENGTH],
  'int32',
);
const mask = tf.ones([2 * BATCH, TEXT_LENGTH], 'int32');
const positives = tf.tensor2d(
  Array.from({ length: BATCH * 2 * BATCH }, (_, k) => (Math.floor((k % (2 * BATCH)) / 2) === Math.floor(k / (2 * BATCH)) ? 1 : 0)),
  [BATCH, 2 * BATCH],
);
writeFileSync(path.join(dir, 'images.f32'), new Uint8Array((images.dataSync() as Float32Array).slice().buffer));
writeFileSync(path.join(dir, 'ids.i32'), new Uint8Array((ids.dataSync() as Int32Array).slice().buffer));
const expectedLoss = tf.tidy(() => clip.forward({ images, ids, mask, positives }).loss.dataSync()[0] as number);
const named = clip.namedParameters();
const params = new Map([...named].map(([n, p]) => [n, p.variable]));
const optimizer = new AdamW(named, { lr: 1e-3, weightDecay: 0.1 });
const step = () => {
  const { value, grads } = valueAndGrads(() => clip.forward({ images, ids, mask, positives }).loss, params);
  optimizer.apply(grads, 1e-3);
  tf.dispose([value, ...grads.values()]);
};
/** Seconds of each of STEPS timed steps, after 2 warm-up steps. */
const stepSeconds = () => {
  for (let i = 0; i < 2; i++) step();
  const times: number[] = [];
  for (let i = 0; i < STEPS; i++) {
    const start = performance.now();
    step();
    times.push((performance.now() - start) / 1000);
  }
  return spread(times);
};
const oursStep = stepSeconds();
const share = await stepShares(oursStep.median * 1000);
const ours2 = await initBackend({ threads: 2 });
const ours2Step = stepSeconds();

/**
 * Where one step's time goes (profiled separately, 1 thread): kernels that run as native code,
 * other tfjs kernels (wasm, or JS shape ops), and the rest of the timed step `wall` ms
 * (autodiff, tidy, JS).
 */
async function stepShares(wall: number) {
  const { kernels } = await tf.profile(() => step());
  const native = new Set(NATIVE_KERNELS);
  let nativeMs = 0;
  let otherMs = 0;
  for (const k of kernels) {
    // customGrad and op scopes ('unnamed scope', 'x__op') time the kernels inside them: skip them.
    if (tf.getKernel(k.name, tf.getBackend()) === undefined) continue;
    if (native.has(k.name)) nativeMs += k.kernelTimeMs as number;
    else otherMs += k.kernelTimeMs as number;
  }
  const share = (ms: number) => Number((ms / wall).toFixed(3));
  return {
    nativeKernelShare: share(nativeMs),
    otherKernelShare: share(otherMs),
    outsideKernelShare: share(Math.max(0, wall - nativeMs - otherMs)),
  };
}

const torchConfig = {
  model: config,
  weights: path.join(dir, 'model', MODEL_FILES.weights),
  images: path.join(dir, 'images.f32'),
  ids: path.join(dir, 'ids.i32'),
  expectedLoss,
  tolerance: TOLERANCE,
  batch: BATCH,
  textLength: TEXT_LENGTH,
  warmup: 2,
  steps: STEPS,
};
const python = referencePython();
const peer = (threads: number) => {
  const script = fileURLToPath(new URL('./torch_clip.py', import.meta.url));
  const runs = torchPeerSettings(threads).map(({ torchThreads, env }) => {
    const run = spawnSync(python, [script, JSON.stringify({ ...torchConfig, threads: torchThreads })], { encoding: 'utf8', env });
    if (run.status !== 0) throw new TesseraError('E_BENCH_PEER', `PyTorch peer failed (${python}): ${run.stderr}`);
    const out = JSON.parse(run.stdout.trim().split('\n').pop() as string) as { stepSeconds: number[]; firstLoss: number; torch: string };
    return { ...out, step: spread(out.stepSeconds), torchThreads, blasThreads: Number(env.OPENBLAS_NUM_THREADS) };
  });
  return runs.reduce((best, r) => (r.step.median < best.step.median ? r : best));
};
const torch1 = peer(1);
const torch2 = peer(2);
rmSync(dir, { recursive: true, force: true });
const details = {
  model: 'clip-tiny',
  parameters: clip.parameterCount(),
  batch: `${BATCH} images 32x32, ${2 * BATCH} captions x ${TEXT_LENGTH} tokens`,
  firstStepLoss: { ours: expectedLoss, peer: torch1.firstLoss, tolerance: TOLERANCE },
  oursStepSeconds: oursStep,
  ours2StepSeconds: ours2Step,
  ours2Threads: ours2.native.active ? ours2.threads : 1,
  torch1StepSeconds: torch1.step,
  torch2StepSeconds: torch2.step,
  torch2Setting: { torchThreads: torch2.torchThreads, blasThreads: torch2.blasThreads },
  torch: torch1.torch,
  native: info.native.active ? info.native.blas : 'off',
  ...share,
};
await recordBenchmark({
  benchmark: 'models-clip-tiny-train',
  metric: 'training images/s at the median of the timed steps',
  unit: 'images/s',
  ours: BATCH / oursStep.median,
  peer: BATCH / torch1.step.median,
  peerName: `PyTorch ${torch1.torch}, 1 thread`,
  higherIsBetter: true,
  backend: info.name,
  details,
});
await recordBenchmark({
  benchmark: 'models-clip-tiny-train-2threads',
  metric: 'training images/s at the median of the timed steps',
  unit: 'images/s',
  ours: BATCH / ours2Step.median,
  peer: BATCH / torch2.step.median,
  peerName: `PyTorch ${torch2.torch}, 2 threads (intra-op ${torch2.torchThreads}, BLAS ${torch2.blasThreads})`,
  higherIsBetter: true,
  backend: info.name,
  details,
});
tf.dispose([images, ids, mask, positives]);
optimizer.dispose();
clip.dispose();
