/**
 * Where one training step's time goes, by kernel: run with
 *   TESSERA_NATIVE=0 npx tsx --conditions=development bench/profile.ts [vit|bert]
 * (TESSERA_NATIVE=0: Tessera's wasm kernels alone). Prints the kernels by total time.
 */
import { initBackend, SeededRandom, tf } from '@tessera/core';
import { Linear, TextEncoder, VisionEncoder } from '../src/index.js';

const kind = process.argv[2] ?? 'bert';
await initBackend({ backend: 'wasm', fastKernels: process.env.TESSERA_FAST !== '0' });
const rng = new SeededRandom(0);
const optimizer = tf.train.adam(1e-3);
let lossFn: () => tf.Scalar;
let vars: tf.Variable[];
if (kind === 'vit') {
  const model = new VisionEncoder({ imageSize: 32, patchSize: 4, dim: 192, numHeads: 3, numLayers: 4, mlpDim: 768, rng });
  const head = new Linear({ inFeatures: 192, outFeatures: 10, rng });
  const images = tf.randomNormal([16, 3, 32, 32]);
  const labels = tf.oneHot(
    tf.tensor1d(
      rng.array(16, (r) => r.int(10)),
      'int32',
    ),
    10,
  );
  lossFn = () => tf.losses.softmaxCrossEntropy(labels, head.forward(model.forward(images).pooled)) as tf.Scalar;
  vars = [...model.trainableVariables(), ...head.trainableVariables()];
} else {
  const model = new TextEncoder({
    vocabSize: 2000,
    maxPositions: 64,
    dim: 256,
    numHeads: 4,
    numLayers: 4,
    mlpDim: 1024,
    norm: 'post',
    rng,
  });
  const head = new Linear({ inFeatures: 256, outFeatures: 2000, rng });
  const ids = tf.tensor2d(
    rng.array(16 * 64, (r) => r.int(2000)),
    [16, 64],
    'int32',
  );
  const targets = tf.oneHot(
    tf.tensor1d(
      rng.array(16 * 64, (r) => r.int(2000)),
      'int32',
    ),
    2000,
  );
  lossFn = () => tf.losses.softmaxCrossEntropy(targets, tf.reshape(head.forward(model.forward(ids).hidden), [-1, 2000])) as tf.Scalar;
  vars = [...model.trainableVariables(), ...head.trainableVariables()];
}
const step = () => optimizer.minimize(lossFn, true, vars)?.dispose();
step();
const info = await tf.profile(() => step());
const byKernel = new Map<string, { ms: number; calls: number }>();
let total = 0;
for (const k of info.kernels) {
  const ms = Number(k.kernelTimeMs) || 0;
  total += ms;
  const entry = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
  entry.ms += ms;
  entry.calls += 1;
  byKernel.set(k.name, entry);
}
console.log(`${kind}: ${info.kernels.length} kernel calls, ${total.toFixed(0)} ms in kernels`);
const matmuls = new Map<string, { ms: number; calls: number }>();
for (const k of info.kernels.filter((k) => k.name === 'BatchMatMul')) {
  const key = (k.inputShapes as number[][]).map((s) => `[${s.join(',')}]`).join(' x ');
  const entry = matmuls.get(key) ?? { ms: 0, calls: 0 };
  entry.ms += Number(k.kernelTimeMs) || 0;
  entry.calls += 1;
  matmuls.set(key, entry);
}
for (const [shape, { ms, calls }] of [...matmuls].sort((a, b) => b[1].ms - a[1].ms).slice(0, 12)) {
  console.log(`  BatchMatMul ${shape.padEnd(36)} ${ms.toFixed(1).padStart(8)} ms  ${calls} calls`);
}
for (const [name, { ms, calls }] of [...byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, 15)) {
  console.log(`${name.padEnd(22)} ${ms.toFixed(1).padStart(8)} ms ${((100 * ms) / total).toFixed(1).padStart(5)} %  ${calls} calls`);
}
