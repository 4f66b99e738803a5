/**
 * CLIP training throughput: Tessera's `clip-tiny` (one AdamW step on B images and 2B captions,
 * an English and a Chinese caption per image, as in `npm run demo`) against the same model in
 * PyTorch 1.13 on this machine (bench/torch_clip.py), both with 1 thread and both with 2 (BLAS threads
 * for Tessera's native kernels, intra-op threads for PyTorch). Metric: training images per second.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { initBackend, NATIVE_KERNELS, recordBenchmark, SeededRandom, tf, torchPeerSettings } from '@tessera/core';
import { AdamW, valueAndGrads } from '@tessera/train';
import { createModel, type DualEncoder, modelConfig } from '../src/index.js';

const BATCH = 128;
const TEXT_LENGTH = 16;
const VOCAB = 7309; // the demo's WordPiece vocabulary size
const STEPS = 5;

const info = await initBackend();
const config = { ...modelConfig('clip-tiny'), text: { ...modelConfig('clip-tiny').text, vocabSize: VOCAB } };
const { model } = createModel(config);
const clip = model as DualEncoder;
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
const named = clip.namedParameters();
const params = new Map([...named].map(([n, p]) => [n, p.variable]));
const optimizer = new AdamW(named, { lr: 1e-3, weightDecay: 0.1 });
const step = () => {
  const { value, grads } = valueAndGrads(() => clip.forward({ images, ids, mask, positives }).loss, params);
  optimizer.apply(grads, 1e-3);
  tf.dispose([value, ...grads.values()]);
};
const secondsPerStep = () => {
  for (let i = 0; i < 2; i++) step();
  const start = performance.now();
  for (let i = 0; i < STEPS; i++) step();
  return (performance.now() - start) / 1000 / STEPS;
};
const oursStep = secondsPerStep();
const share = await stepShares(oursStep * 1000);
const ours2 = await initBackend({ threads: 2 });
const ours2Step = secondsPerStep();

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

const torchConfig = { model: config, batch: BATCH, textLength: TEXT_LENGTH, warmup: 2, steps: STEPS };
const peer = (threads: number) => {
  const script = fileURLToPath(new URL('./torch_clip.py', import.meta.url));
  const runs = torchPeerSettings(threads).map(({ torchThreads, env }) => {
    const run = spawnSync('/usr/bin/python3', [script, JSON.stringify({ ...torchConfig, threads: torchThreads })], {
      encoding: 'utf8',
      env,
    });
    if (run.status !== 0) throw new Error(`PyTorch peer failed: ${run.stderr}`);
    return JSON.parse(run.stdout.trim().split('\n').pop() as string) as { stepSeconds: number; torch: string };
  });
  return runs.reduce((best, r) => (r.stepSeconds < best.stepSeconds ? r : best));
};
const torch1 = peer(1);
const torch2 = peer(2);
const details = {
  model: 'clip-tiny',
  parameters: clip.parameterCount(),
  batch: `${BATCH} images 32x32, ${2 * BATCH} captions x ${TEXT_LENGTH} tokens`,
  oursStepSeconds: oursStep,
  ours2StepSeconds: ours2Step,
  ours2Threads: ours2.native.active ? ours2.threads : 1,
  torch1StepSeconds: torch1.stepSeconds,
  torch2StepSeconds: torch2.stepSeconds,
  torch: torch1.torch,
  native: info.native.active ? info.native.blas : 'off',
  ...share,
};
await recordBenchmark({
  benchmark: 'models-clip-tiny-train',
  metric: 'training images/s',
  unit: 'images/s',
  ours: BATCH / oursStep,
  peer: BATCH / torch1.stepSeconds,
  peerName: 'PyTorch 1.13, 1 thread',
  higherIsBetter: true,
  backend: info.name,
  details,
});
await recordBenchmark({
  benchmark: 'models-clip-tiny-train-2threads',
  metric: 'training images/s',
  unit: 'images/s',
  ours: BATCH / ours2Step,
  peer: BATCH / torch2.stepSeconds,
  peerName: 'PyTorch 1.13, 2 threads',
  higherIsBetter: true,
  backend: info.name,
  details,
});
tf.dispose([images, ids, mask, positives]);
optimizer.dispose();
clip.dispose();
