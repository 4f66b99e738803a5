/**
 * Tiny Transformer training step (embedding gather, attention, GELU MLP, softmax
 * cross-entropy, Adam) on stock tfjs-wasm, Tessera's wasm, and cpu, against the same model
 * in PyTorch (tests/bench/transformer_step.py) measured in the same run.
 *
 *   npx tsx --conditions=development tests/bench/transformer-step.bench.ts
 */
import '@tensorflow/tfjs-backend-cpu';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { initBackend, matMul, recordBenchmark, SeededRandom, tf, useFastWasmKernels } from '@tessera/core';

const shape = { batch: 32, seq: 64, dim: 128, heads: 4, layers: 2, ff: 512, vocab: 1000 };
const steps = Number(process.env.BENCH_STEPS ?? 10);

function layerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), gamma), beta);
}

function gelu(x: tf.Tensor): tf.Tensor {
  const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
  return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)));
}

function buildModel(rng: SeededRandom) {
  const { dim, ff, vocab, seq, layers } = shape;
  const normal = (rows: number, cols: number, std: number) =>
    tf.variable(
      tf.tensor2d(
        rng.array(rows * cols, (r) => r.normal(0, std)),
        [rows, cols],
      ),
    );
  const zeros = (n: number) => tf.variable(tf.zeros([n]));
  const ones = (n: number) => tf.variable(tf.ones([n]));
  const params = {
    emb: normal(vocab, dim, 1),
    pos: normal(seq, dim, 0.02),
    blocks: Array.from({ length: layers }, () => ({
      ln1g: ones(dim),
      ln1b: zeros(dim),
      wq: normal(dim, dim, 0.05),
      bq: zeros(dim),
      wk: normal(dim, dim, 0.05),
      bk: zeros(dim),
      wv: normal(dim, dim, 0.05),
      bv: zeros(dim),
      wo: normal(dim, dim, 0.05),
      bo: zeros(dim),
      ln2g: ones(dim),
      ln2b: zeros(dim),
      w1: normal(dim, ff, 0.05),
      b1: zeros(ff),
      w2: normal(ff, dim, 0.05),
      b2: zeros(dim),
    })),
    lnG: ones(dim),
    lnB: zeros(dim),
    head: normal(dim, vocab, 0.05),
    headB: zeros(vocab),
  };
  return params;
}

function forwardLoss(p: ReturnType<typeof buildModel>, ids: tf.Tensor2D, labels: tf.Tensor2D): tf.Scalar {
  const { batch, seq, dim, heads, vocab } = shape;
  const dh = dim / heads;
  let x = tf.add(tf.gather(p.emb, ids), p.pos);
  const split = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [batch, seq, heads, dh]), [0, 2, 1, 3]);
  for (const b of p.blocks) {
    const h = layerNorm(x, b.ln1g, b.ln1b);
    const q = split(tf.add(matMul(h, b.wq), b.bq));
    const k = split(tf.add(matMul(h, b.wk), b.bk));
    const v = split(tf.add(matMul(h, b.wv), b.bv));
    const att = tf.softmax(tf.mul(matMul(q, k, false, true), 1 / Math.sqrt(dh)));
    const o = tf.reshape(tf.transpose(matMul(att, v), [0, 2, 1, 3]), [batch, seq, dim]);
    x = tf.add(x, tf.add(matMul(o, b.wo), b.bo));
    const m = gelu(tf.add(matMul(layerNorm(x, b.ln2g, b.ln2b), b.w1), b.b1));
    x = tf.add(x, tf.add(matMul(m, b.w2), b.b2));
  }
  const logits = tf.add(matMul(layerNorm(x, p.lnG, p.lnB), p.head), p.headB);
  return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.reshape(labels, [-1]), vocab), tf.reshape(logits, [-1, vocab])) as tf.Scalar;
}

function stepsPerSecond(timedSteps: number): number {
  const rng = new SeededRandom(0);
  const params = buildModel(rng);
  const ids = tf.tensor2d(
    Int32Array.from({ length: shape.batch * shape.seq }, () => rng.int(shape.vocab)),
    [shape.batch, shape.seq],
    'int32',
  );
  const labels = tf.tensor2d(
    Int32Array.from({ length: shape.batch * shape.seq }, () => rng.int(shape.vocab)),
    [shape.batch, shape.seq],
    'int32',
  );
  const optimizer = tf.train.adam(1e-3);
  const step = () => {
    const loss = optimizer.minimize(() => forwardLoss(params, ids, labels), true) as tf.Scalar;
    loss.dataSync();
    loss.dispose();
  };
  step();
  const start = performance.now();
  for (let i = 0; i < timedSteps; i++) step();
  const rate = timedSteps / ((performance.now() - start) / 1000);
  optimizer.dispose();
  tf.dispose([ids, labels]);
  tf.disposeVariables();
  return rate;
}

function pytorchStepsPerSecond(): number {
  const script = path.join(import.meta.dirname, 'transformer_step.py');
  const args = Object.entries(shape).flatMap(([k, v]) => [`--${k}`, String(v)]);
  try {
    const out = execFileSync('/usr/bin/python3', [script, ...args, '--steps', String(Math.max(steps, 20)), '--threads', '1'], {
      encoding: 'utf8',
    });
    return JSON.parse(out.trim().split('\n').at(-1) as string).stepsPerSecond;
  } catch (error) {
    throw new Error(
      `PyTorch peer failed (install with: apt-get install -y python3-torch libopenblas0-pthread): ${(error as Error).message}`,
    );
  }
}

const torch = pytorchStepsPerSecond();
const details = { ...shape, optimizer: 'adam', threads: 1, peerThreads: 1 };
const variants: Array<{ name: string; backend: 'wasm' | 'cpu'; fast: boolean; steps: number }> = [
  { name: 'wasm', backend: 'wasm', fast: true, steps },
  { name: 'wasm-stock', backend: 'wasm', fast: false, steps: Math.max(2, Math.round(steps / 5)) },
  { name: 'cpu', backend: 'cpu', fast: false, steps: 1 },
];
for (const v of variants) {
  await initBackend({ backend: v.backend, fastKernels: v.fast });
  if (v.backend === 'wasm') useFastWasmKernels(v.fast);
  const ours = stepsPerSecond(v.steps);
  await recordBenchmark({
    benchmark: `transformer-step-${v.name}`,
    metric: 'training steps per second (B32 S64 D128 H4 L2 FF512 V1000, Adam)',
    unit: 'steps/s',
    ours,
    peer: torch,
    peerName: 'PyTorch 1.13 + OpenBLAS, 1 thread',
    higherIsBetter: true,
    backend: v.fast ? `${v.backend} + Tessera kernels` : `${v.backend} (stock tfjs)`,
    details: { ...details, timedSteps: v.steps },
  });
}
