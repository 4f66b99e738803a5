/**
 * `npm run demo`: the main job. Until the training pipeline lands, this is a backend
 * self-check: it picks the backend, runs a small gradient step on it and checks the result
 * against the cpu reference.
 */
import '@tensorflow/tfjs-backend-cpu';
import { initBackend, matMul, SeededRandom, tf } from '@tessera/core';

function gradientCheck(): number[] {
  const rng = new SeededRandom(0);
  const x = tf.tensor3d(
    rng.array(2 * 8 * 16, (r) => r.normal()),
    [2, 8, 16],
  );
  const w = tf.tensor2d(
    rng.array(16 * 4, (r) => r.normal()),
    [16, 4],
  );
  const ids = tf.tensor1d([3, 1, 3, 0], 'int32');
  const table = tf.tensor2d(
    rng.array(5 * 16, (r) => r.normal()),
    [5, 16],
  );
  const [gw, gt] = tf.grads((wv: tf.Tensor, tv: tf.Tensor) =>
    tf.add(tf.sum(tf.square(matMul(x, wv))), tf.sum(tf.square(tf.gather(tv, ids)))),
  )([w, table]) as [tf.Tensor, tf.Tensor];
  return [...gw.dataSync(), ...gt.dataSync()];
}

const info = await initBackend();
console.log(`backend: ${info.name} (${info.reason})`);
console.log(`kernel fixes: ${info.kernelFixes.join(', ') || 'none'}`);
const start = performance.now();
const ours = gradientCheck();
const ms = performance.now() - start;
await tf.setBackend('cpu');
const reference = gradientCheck();
const worst = Math.max(...ours.map((v, i) => Math.abs(v - (reference[i] as number)) / Math.max(1, Math.abs(reference[i] as number))));
console.log(`gradient check vs cpu reference: max relative error ${worst.toExponential(2)} (${ms.toFixed(0)} ms)`);
if (!(worst < 1e-4)) {
  console.error('self-check FAILED');
  process.exit(1);
}
console.log('self-check passed. The training demo arrives with the training pipeline (issue: train on text-image pairs).');
