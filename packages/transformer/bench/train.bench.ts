/**
 * Training throughput of a ViT-tiny-like and a BERT-mini-like configuration: Tessera on stock
 * tfjs-wasm and on Tessera's wasm path, against the same architecture in PyTorch (1 thread) run
 * in the same process invocation. Writes bench-results/transformer-{vit-tiny,bert-mini}-train-*.json.
 *
 *   npm run bench -w @tessera/transformer        (TESSERA_BENCH_STEPS=n to time more steps)
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  backendInfo,
  initBackend,
  recordBenchmark,
  referencePython,
  SeededRandom,
  type TorchPeerSetting,
  tf,
  torchPeerSettings,
} from '@tessera/core';
import { Linear, TextEncoder, VisionEncoder } from '../src/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const steps = Number(process.env.TESSERA_BENCH_STEPS ?? 2);

const VIT = { kind: 'vit', batch: 16, imageSize: 32, patchSize: 4, dim: 192, heads: 3, mlpDim: 768, layers: 4, classes: 10 } as const;
const BERT = { kind: 'bert', batch: 16, seq: 64, vocab: 2000, dim: 256, heads: 4, mlpDim: 1024, layers: 4 } as const;
type Shape = typeof VIT | typeof BERT;

function describe(c: Shape): string {
  return c.kind === 'vit'
    ? `ViT-tiny-like: B${c.batch} ${c.imageSize}x${c.imageSize} px patch ${c.patchSize} (65 tokens) D${c.dim} H${c.heads} FF${c.mlpDim} L${c.layers}, pre-LN, CLS -> ${c.classes} classes, Adam`
    : `BERT-mini-like: B${c.batch} S${c.seq} V${c.vocab} D${c.dim} H${c.heads} FF${c.mlpDim} L${c.layers}, post-LN, LM head on all tokens, Adam`;
}

/** A training step closure for the config, built from Tessera modules. */
function build(c: Shape): { step: () => number; dispose: () => void } {
  const rng = new SeededRandom(0);
  const optimizer = tf.train.adam(1e-3);
  if (c.kind === 'vit') {
    const model = new VisionEncoder({
      imageSize: c.imageSize,
      patchSize: c.patchSize,
      dim: c.dim,
      numHeads: c.heads,
      numLayers: c.layers,
      mlpDim: c.mlpDim,
      rng,
    });
    const head = new Linear({ inFeatures: c.dim, outFeatures: c.classes, rng });
    const images = tf.randomNormal([c.batch, 3, c.imageSize, c.imageSize]);
    const labels = tf.oneHot(
      tf.tensor1d(
        rng.array(c.batch, (r) => r.int(c.classes)),
        'int32',
      ),
      c.classes,
    );
    const vars = [...model.trainableVariables(), ...head.trainableVariables()];
    return {
      step: () => {
        const loss = optimizer.minimize(
          () => tf.losses.softmaxCrossEntropy(labels, head.forward(model.forward(images).pooled)) as tf.Scalar,
          true,
          vars,
        ) as tf.Scalar;
        const value = loss.dataSync()[0] as number;
        loss.dispose();
        return value;
      },
      dispose: () => {
        tf.dispose([images, labels]);
        optimizer.dispose();
        model.dispose();
        head.dispose();
      },
    };
  }
  const model = new TextEncoder({
    vocabSize: c.vocab,
    maxPositions: c.seq,
    dim: c.dim,
    numHeads: c.heads,
    numLayers: c.layers,
    mlpDim: c.mlpDim,
    norm: 'post',
    rng,
  });
  const head = new Linear({ inFeatures: c.dim, outFeatures: c.vocab, rng });
  const ids = tf.tensor2d(
    rng.array(c.batch * c.seq, (r) => r.int(c.vocab)),
    [c.batch, c.seq],
    'int32',
  );
  const mask = tf.ones([c.batch, c.seq], 'int32');
  const targets = tf.oneHot(
    tf.tensor1d(
      rng.array(c.batch * c.seq, (r) => r.int(c.vocab)),
      'int32',
    ),
    c.vocab,
  );
  const vars = [...model.trainableVariables(), ...head.trainableVariables()];
  return {
    step: () => {
      const loss = optimizer.minimize(
        () => tf.losses.softmaxCrossEntropy(targets, tf.reshape(head.forward(model.forward(ids, mask).hidden), [-1, c.vocab])) as tf.Scalar,
        true,
        vars,
      ) as tf.Scalar;
      const value = loss.dataSync()[0] as number;
      loss.dispose();
      return value;
    },
    dispose: () => {
      tf.dispose([ids, mask, targets]);
      optimizer.dispose();
      model.dispose();
      head.dispose();
    },
  };
}

interface Rate {
  /** Steps per wall-clock second. */
  stepsPerSecond: number;
  /** Steps per second of this process's CPU time: what the step costs, whatever else loads the shared machine. */
  stepsPerCpuSecond: number;
  /** The peer's torch.__version__ (peer runs only). */
  torch?: string;
}

function cpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

function timeSteps(c: Shape, timed: number): Rate & { tensorsFlat: boolean } {
  const { step, dispose } = build(c);
  step(); // warm-up: kernel setup, XNNPACK packing
  const counts: number[] = [];
  const start = performance.now();
  const cpu = cpuSeconds();
  for (let i = 0; i < timed; i++) {
    step();
    counts.push(tf.memory().numTensors);
  }
  const seconds = (performance.now() - start) / 1000;
  const cpuUsed = cpuSeconds() - cpu;
  dispose();
  return { stepsPerSecond: timed / seconds, stepsPerCpuSecond: timed / cpuUsed, tensorsFlat: new Set(counts).size === 1 };
}

function torchPeer(c: Shape): Rate {
  const run = spawnSync(
    referencePython(),
    [path.join(here, 'torch_peer.py'), JSON.stringify({ ...c, warmup: 2, steps: Math.max(5, steps * 2) })],
    { encoding: 'utf8', env: (torchPeerSettings(1)[0] as TorchPeerSetting).env }, // 1 thread, BLAS included
  );
  if (run.status !== 0) throw new Error(`PyTorch peer failed: ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').at(-1) as string);
}

/** The native-kernel state when this core has @tessera/native support (undefined otherwise). */
function nativeState(): { active: boolean; blas: string | null } | undefined {
  return (backendInfo() as unknown as { native?: { active: boolean; blas: string | null } }).native;
}

// Variants in this order (core re-initialises on each change): stock tfjs-wasm; Tessera's wasm
// kernels with @tessera/native where it is built; Tessera's wasm kernels alone.
const variants = [
  { suffix: 'wasm-stock', fastKernels: false, native: '0', backend: 'wasm (stock tfjs 4.22)' },
  { suffix: 'native', fastKernels: true, native: '1', backend: 'wasm + Tessera kernels + @tessera/native' },
  { suffix: 'wasm', fastKernels: true, native: '0', backend: 'wasm + Tessera kernels' },
];

for (const c of [VIT, BERT]) {
  const name = c.kind === 'vit' ? 'vit-tiny' : 'bert-mini';
  const peerBefore = torchPeer(c);
  const results: ({ variant: (typeof variants)[number]; tensorsFlat: boolean; info: unknown } & Rate)[] = [];
  for (const variant of variants) {
    process.env.TESSERA_NATIVE = variant.native;
    await initBackend({ backend: 'wasm', fastKernels: variant.fastKernels });
    if (variant.suffix === 'native' && !nativeState()?.active) continue;
    // Stock wasm is far slower: time fewer steps there to keep the run short.
    const timed = variant.fastKernels ? steps * 3 : steps;
    results.push({ variant, ...timeSteps(c, timed), info: backendInfo() });
  }
  // The machine is shared with other jobs: the figure is steps per CPU second of each process
  // (both run one thread, so on an idle machine it equals steps per wall second); the peer
  // runs before and after ours and the two runs are averaged. Wall-clock rates are in details.
  const peerAfter = torchPeer(c);
  const peer = (peerBefore.stepsPerCpuSecond + peerAfter.stepsPerCpuSecond) / 2;
  for (const r of results) {
    await recordBenchmark({
      benchmark: `transformer-${name}-train-${r.variant.suffix}`,
      metric: `training steps per CPU second (${describe(c)})`,
      unit: 'steps/s',
      ours: r.stepsPerCpuSecond,
      peer,
      peerName: `PyTorch ${peerBefore.torch}, 1 thread`,
      higherIsBetter: true,
      backend: r.variant.backend,
      details: {
        ...c,
        timedSteps: r.variant.fastKernels ? steps * 3 : steps,
        threads: 1,
        peerThreads: 1,
        peerRuns: [peerBefore, peerAfter],
        oursWallStepsPerSecond: r.stepsPerSecond,
        tensorCountFlat: r.tensorsFlat,
        backendInfo: r.info,
      },
    });
  }
}
