import '@tensorflow/tfjs-backend-cpu';
import { SeededRandom } from '@tessera/base';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend.js';
import { tf } from '../tf.js';
import { matMul } from './matMul.js';

/** Plain-loop reference: out[p] = A[pa] @ B[pb] where pa, pb follow numpy broadcasting. */
function reference(a: Float32Array, aBatch: number[], b: Float32Array, bBatch: number[], m: number, k: number, n: number) {
  const batch = aBatch.map((d, i) => Math.max(d, bBatch[i] as number));
  const size = batch.reduce((x, y) => x * y, 1);
  const out = new Float64Array(size * m * n);
  const index = (p: number, dims: number[]) => {
    // position p in `batch` -> flat index in a batch shape with dims (1 = broadcast)
    let rest = p;
    let flat = 0;
    let stride = 1;
    for (let i = batch.length - 1; i >= 0; i--) {
      const coord = rest % (batch[i] as number);
      rest = Math.floor(rest / (batch[i] as number));
      flat += (dims[i] === 1 ? 0 : coord) * stride;
      stride *= dims[i] as number;
    }
    return flat;
  };
  for (let p = 0; p < size; p++) {
    const pa = index(p, aBatch) * m * k;
    const pb = index(p, bBatch) * k * n;
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let t = 0; t < k; t++) s += (a[pa + i * k + t] as number) * (b[pb + t * n + j] as number);
        out[p * m * n + i * n + j] = s;
      }
  }
  return out;
}

describe('matMul (numpy broadcasting, with gradients)', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });
  const rng = new SeededRandom(11);
  const cases: Array<[string, number[], number[]]> = [
    ['both operands broadcast: [2,1] x [1,3]', [2, 1], [1, 3]],
    ['left shared: [1] x [4]', [1], [4]],
    ['right shared: [3] x [1]', [3], [1]],
  ];
  for (const [name, aBatch, bBatch] of cases) {
    for (const backend of ['wasm', 'cpu'] as const) {
      it(`${name} on ${backend}: values equal plain loops, gradients equal finite sums`, async () => {
        await tf.setBackend(backend);
        const [m, k, n] = [3, 4, 2];
        const aData = rng.array(aBatch.reduce((x, y) => x * y, 1) * m * k, (r) => r.uniform(-1, 1));
        const bData = rng.array(bBatch.reduce((x, y) => x * y, 1) * k * n, (r) => r.uniform(-1, 1));
        const a = tf.tensor(aData, [...aBatch, m, k]);
        const b = tf.tensor(bData, [...bBatch, k, n]);
        const want = reference(aData, aBatch, bData, bBatch, m, k, n);
        const got = matMul(a, b).dataSync();
        for (let i = 0; i < want.length; i++) expect(Math.abs((got[i] as number) - (want[i] as number))).toBeLessThan(1e-5);
        // d/dA sum(matMul(A, B)) = sum over the broadcast partners of rowsums of B, etc.
        const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(matMul(x, y)))([a, b]) as [tf.Tensor, tf.Tensor];
        expect(ga.shape).toEqual(a.shape);
        expect(gb.shape).toEqual(b.shape);
        // finite-difference check of one entry of each gradient
        const eps = 1e-2;
        const f = (ad: Float32Array, bd: Float32Array) => reference(ad, aBatch, bd, bBatch, m, k, n).reduce((s, v) => s + v, 0);
        const bump = (arr: Float32Array, i: number, d: number) => {
          const c = arr.slice();
          c[i] = (c[i] as number) + d;
          return c;
        };
        const fdA = (f(bump(aData, 5, eps), bData) - f(bump(aData, 5, -eps), bData)) / (2 * eps);
        const fdB = (f(aData, bump(bData, 3, eps)) - f(aData, bump(bData, 3, -eps))) / (2 * eps);
        expect(Math.abs((ga.dataSync()[5] as number) - fdA)).toBeLessThan(1e-3);
        expect(Math.abs((gb.dataSync()[3] as number) - fdB)).toBeLessThan(1e-3);
        tf.dispose([a, b, ga, gb]);
      });
    }
  }
});
