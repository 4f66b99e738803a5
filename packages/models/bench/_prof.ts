import { initBackend, SeededRandom, tf } from '@tessera/core';
import { getKernelsForBackend, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';
import { VisionEncoder, TextEncoder } from '@tessera/transformer';
import { DualEncoder, loadPretrained } from '../src/index.js';

const threads = Number(process.env.T ?? 1);
const B = Number(process.env.B ?? 8);
const info = await initBackend({ threads });
console.log(info.name, info.native.active, info.native.blas, info.threads);
const rng = new SeededRandom(0);
const vision = new VisionEncoder({ imageSize: 224, patchSize: 32, dim: 768, numHeads: 12, numLayers: 12, mlpDim: 3072, activation: 'quick_gelu', layerNormEps: 1e-5, pooling: 'cls', rng: rng.fork('v') });
const text = new TextEncoder({ vocabSize: 49408, maxPositions: 77, dim: 512, numHeads: 8, numLayers: 12, mlpDim: 2048, activation: 'quick_gelu', causal: true, pooling: 'eos', rng: rng.fork('t') });
const model = new DualEncoder({ vision, text, embedDim: 512, rng: rng.fork('m') });
model.eval?.();
const images = tf.randomNormal([B, 3, 224, 224]);
const times = new Map<string, { ms: number; n: number }>();
const prof = process.env.PROF === '1';
if (prof) {
  for (const k of getKernelsForBackend('wasm')) {
    const f = k.kernelFunc;
    unregisterKernel(k.kernelName, 'wasm');
    registerKernel({ ...k, kernelFunc: (args) => {
      const t0 = performance.now();
      const r = f(args);
      const shapes = Object.values(args.inputs).map((t) => (t as tf.TensorInfo).shape.join('x')).join(',');
      const key = `${k.kernelName} ${shapes} ${JSON.stringify((args.attrs as any)?.activation ?? (args.attrs as any)?.perm ?? '')}`;
      const e = times.get(key) ?? { ms: 0, n: 0 };
      e.ms += performance.now() - t0; e.n++; times.set(key, e);
      return r;
    } });
  }
}
const mode = process.env.MODE ?? 'image';
const S = Number(process.env.S ?? 77);
const ids = tf.tensor2d(Array.from({ length: B * S }, (_, i) => (i % S === S - 1 ? 49407 : 1 + (i * 7919) % 49000)), [B, S], 'int32');
const mask = tf.ones([B, S], 'int32');
const run = () => { const e = mode === 'image' ? model.encodeImage(images) : model.encodeText(ids, mask); e.dataSync(); e.dispose(); };
run(); times.clear();
const reps = Number(process.env.R ?? 3);
const t0 = performance.now();
for (let i = 0; i < reps; i++) run();
const dt = (performance.now() - t0) / reps;
console.log(`${mode} B=${B} threads=${threads}: ${dt.toFixed(0)} ms/batch, ${(B / dt * 1000).toFixed(2)} items/s`);
if (prof) {
  const total = [...times.values()].reduce((a, b) => a + b.ms, 0) / reps;
  console.log(`kernel total ${total.toFixed(0)} ms/batch`);
  const byName = new Map<string, number>();
  for (const [k, v] of times) byName.set(k.split(' ')[0], (byName.get(k.split(' ')[0]) ?? 0) + v.ms / reps);
  for (const [k, v] of [...byName].sort((a, b) => b[1] - a[1])) console.log(`  ${k.padEnd(24)} ${v.toFixed(1)} ms`);
  for (const [k, v] of [...times].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25)) console.log(`  ${(v.ms / reps).toFixed(1).padStart(7)} ms  n=${v.n / reps}  ${k}`);
}
