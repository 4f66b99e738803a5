import '@tensorflow/tfjs-backend-cpu';
import { SeededRandom } from '@tessera/base';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend.js';
import { matMul } from '../ops/matMul.js';
import { patchify, unpatchify } from '../ops/patchify.js';
import { tf } from '../tf.js';
import { fastWasmKernelsActive } from './wasmKernels.js';

/** Runs `fn` on fresh copies of `inputs` on one backend and reads every output back. */
async function run(
  backend: 'cpu' | 'wasm',
  inputs: Array<{ shape: number[]; data: Float32Array | Int32Array }>,
  fn: (...xs: tf.Tensor[]) => tf.Tensor[],
) {
  await tf.setBackend(backend);
  const outputs = tf.tidy(() => fn(...inputs.map((x) => tf.tensor(x.data, x.shape, x.data instanceof Int32Array ? 'int32' : 'float32'))));
  const values = outputs.map((o) => ({ shape: o.shape, data: o.dataSync().slice() }));
  tf.dispose(outputs);
  return values;
}

function randomInput(rng: SeededRandom, shape: number[]) {
  return {
    shape,
    data: rng.array(
      shape.reduce((a, b) => a * b, 1),
      (r) => r.uniform(-1, 1),
    ),
  };
}

/** Values and gradients on wasm (with Tessera's kernels) equal those on cpu within 1e-5. */
async function expectSameOnBothBackends(
  inputs: ReturnType<typeof randomInput>[],
  fn: (...xs: tf.Tensor[]) => tf.Tensor[],
  referenceFn: (...xs: tf.Tensor[]) => tf.Tensor[] = fn,
) {
  const reference = await run('cpu', inputs, referenceFn);
  const ours = await run('wasm', inputs, fn);
  expect(ours.length).toBe(reference.length);
  for (let i = 0; i < ours.length; i++) {
    const [o, r] = [ours[i], reference[i]] as [(typeof ours)[0], (typeof ours)[0]];
    expect(o.shape).toEqual(r.shape);
    let worst = 0;
    for (let j = 0; j < r.data.length; j++) {
      const scale = Math.max(1, Math.abs(r.data[j] as number));
      worst = Math.max(worst, Math.abs((o.data[j] as number) - (r.data[j] as number)) / scale);
    }
    expect(worst, `output ${i}`).toBeLessThan(1e-5);
  }
}

/**
 * f(a, b) = sum(matMul(a, b) * w): a scalar whose gradients exercise dA and dB. The
 * gradients go through Tessera's `matMul`, since tfjs's fails on broadcast batch dims.
 */
function matMulWithGrads(tA: boolean, tB: boolean) {
  return (a: tf.Tensor, b: tf.Tensor, w: tf.Tensor) => {
    const product = tf.matMul(a, b, tA, tB);
    const f = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(matMul(x, y, tA, tB), w));
    const [ga, gb] = tf.grads(f)([a, b]) as [tf.Tensor, tf.Tensor];
    return [product, ga, gb];
  };
}

describe('wasm kernel fixes', () => {
  beforeAll(async () => {
    // These test Tessera's wasm kernels themselves (native kernels: native/*.test.ts).
    await initBackend({ backend: 'wasm', native: false });
    expect(fastWasmKernelsActive()).toBe(true);
  });

  const rng = new SeededRandom(3);
  const cases: Array<[string, number[], number[], number[]]> = [
    // name, a shape (untransposed), b shape (untransposed), output shape
    ['2-D', [5, 7], [7, 3], [5, 3]],
    ['3-D batched', [4, 5, 7], [4, 7, 3], [4, 5, 3]],
    ['3-D x shared 2-D (linear layer)', [4, 5, 7], [7, 3], [4, 5, 3]],
    ['2-D x 3-D batched', [5, 7], [4, 7, 3], [4, 5, 3]],
    ['4-D attention-like', [2, 3, 6, 4], [2, 3, 4, 6], [2, 3, 6, 6]],
    ['batch of one', [1, 5, 7], [1, 7, 3], [1, 5, 3]],
    ['broadcast batch [2,1] x [1,3]', [2, 1, 5, 7], [1, 3, 7, 3], [2, 3, 5, 3]],
  ];
  for (const [name, aShape, bShape, outShape] of cases) {
    for (const tA of [false, true]) {
      for (const tB of [false, true]) {
        it(`BatchMatMul ${name} transposeA=${tA} transposeB=${tB}: values and gradients`, async () => {
          const swap = (s: number[], t: boolean) => (t ? [...s.slice(0, -2), s[s.length - 1] as number, s[s.length - 2] as number] : s);
          // tfjs's cpu kernel pairs batch items by flat index modulo each batch size; numpy
          // broadcasting (ours) equals it on operands broadcast explicitly first.
          const full = (t: tf.Tensor) => tf.broadcastTo(t, [...outShape.slice(0, -2), ...t.shape.slice(-2)]);
          await expectSameOnBothBackends(
            [randomInput(rng, swap(aShape, tA)), randomInput(rng, swap(bShape, tB)), randomInput(rng, outShape)],
            matMulWithGrads(tA, tB),
            (a, b, w) => {
              const f = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(full(x), full(y), tA, tB), w as tf.Tensor));
              return [tf.matMul(full(a as tf.Tensor), full(b as tf.Tensor), tA, tB), ...tf.grads(f)([a as tf.Tensor, b as tf.Tensor])];
            },
          );
        });
      }
    }
  }

  it('Sum over leading axes (bias gradient) and over other axes', async () => {
    await expectSameOnBothBackends([randomInput(rng, [3, 5, 8])], (x) => [
      tf.sum(x as tf.Tensor, 0),
      tf.sum(x as tf.Tensor, [0, 1]), // same data, other shape: XNNPACK's weight cache must not be reused
      tf.sum(x as tf.Tensor, 0),
      tf.sum(x as tf.Tensor, [0, 1]),
      tf.sum(x as tf.Tensor, [0, 1], true),
      tf.sum(x as tf.Tensor, -1),
      tf.sum(x as tf.Tensor, [0, 2]),
      tf.sum(x as tf.Tensor),
    ]);
  });

  it('bias gradient through a linear layer', async () => {
    await expectSameOnBothBackends([randomInput(rng, [4, 6, 5]), randomInput(rng, [5, 3]), randomInput(rng, [3])], (x, w, b) => {
      const f = (wv: tf.Tensor, bv: tf.Tensor) => tf.sum(tf.square(tf.add(matMul(x as tf.Tensor, wv), bv)));
      return tf.grads(f)([w as tf.Tensor, b as tf.Tensor]);
    });
  });

  it('UnsortedSegmentSum: the gradient of gather (embedding lookup), with repeated ids', async () => {
    const ids = { shape: [2, 5], data: new Int32Array([0, 3, 3, 9, 1, 0, 0, 2, 9, 9]) };
    await expectSameOnBothBackends([randomInput(rng, [10, 4]), ids as never, randomInput(rng, [2, 5, 4])], (table, idx, w) => {
      const f = (t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, idx as tf.Tensor), w as tf.Tensor));
      return [tf.gather(table as tf.Tensor, idx as tf.Tensor), tf.grad(f)(table as tf.Tensor)];
    });
  });

  it('UnsortedSegmentSum drops ids outside [0, numSegments)', async () => {
    await tf.setBackend('wasm');
    const out = tf.unsortedSegmentSum(
      tf.tensor2d([
        [1, 2],
        [3, 4],
        [5, 6],
      ]),
      tf.tensor1d([1, -1, 5], 'int32'),
      3,
    );
    expect(out.arraySync()).toEqual([
      [0, 0],
      [1, 2],
      [0, 0],
    ]);
    out.dispose();
  });

  it('patchify + matMul equals conv2d with stride = kernel, and trains on wasm', async () => {
    const [b, c, h, w, p, d] = [2, 3, 8, 12, 4, 5];
    await expectSameOnBothBackends([randomInput(rng, [b, c, h, w]), randomInput(rng, [d, c, p, p])], (images, weight) => {
      const ours = tf.matMul(patchify(images as tf.Tensor4D, p), tf.reshape(weight as tf.Tensor, [d, c * p * p]), false, true);
      // conv2d reference (forward only; wasm has no filter gradient): NHWC input, HWIO filter.
      const nhwc = tf.transpose(images as tf.Tensor4D, [0, 2, 3, 1]);
      const hwio = tf.transpose(weight as tf.Tensor4D, [2, 3, 1, 0]) as tf.Tensor4D;
      const conv = tf.reshape(tf.conv2d(nhwc as tf.Tensor4D, hwio, p, 'valid'), [b, (h / p) * (w / p), d]);
      const grad = tf.grad((wt: tf.Tensor) =>
        tf.sum(tf.square(matMul(patchify(images as tf.Tensor4D, p), tf.reshape(wt, [d, c * p * p]), false, true))),
      )(weight as tf.Tensor);
      return [ours, tf.sub(ours, conv), grad];
    });
    // and the difference to conv2d itself is ~0
    const diff = await run('wasm', [randomInput(rng, [b, c, h, w]), randomInput(rng, [d, c, p, p])], (images, weight) => {
      const ours = tf.matMul(patchify(images as tf.Tensor4D, p), tf.reshape(weight as tf.Tensor, [d, c * p * p]), false, true);
      const conv = tf.conv2d(
        tf.transpose(images as tf.Tensor4D, [0, 2, 3, 1]) as tf.Tensor4D,
        tf.transpose(weight as tf.Tensor4D, [2, 3, 1, 0]) as tf.Tensor4D,
        p,
        'valid',
      );
      return [tf.max(tf.abs(tf.sub(ours, tf.reshape(conv, ours.shape))))];
    });
    expect(diff[0]?.data[0]).toBeLessThan(1e-5);
  });

  it('unpatchify inverts patchify exactly', async () => {
    await tf.setBackend('wasm');
    const images = tf.randomUniform([2, 3, 8, 12]) as tf.Tensor4D;
    const back = unpatchify(patchify(images, 4), 4, 3, 8, 12);
    expect(tf.max(tf.abs(tf.sub(back, images))).dataSync()[0]).toBe(0);
    expect(() => patchify(images, 5)).toThrow(/not divisible/);
  });

  it('leaks no tensors', async () => {
    await tf.setBackend('wasm');
    const a = tf.randomNormal([4, 5, 7]);
    const b = tf.randomNormal([4, 7, 3]);
    const backendBuffers = () => (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
    const before = [tf.memory().numTensors, backendBuffers()];
    for (let i = 0; i < 3; i++) {
      tf.dispose(
        tf.tidy(() => [
          ...tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(matMul(x, y, true, true)))([
            tf.transpose(a, [0, 2, 1]),
            tf.transpose(b, [0, 2, 1]),
          ]),
          ...tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(matMul(x, y)))([a, tf.randomNormal([7, 3])]),
          tf.sum(a, [0, 1]),
        ]),
      );
    }
    expect([tf.memory().numTensors, backendBuffers()]).toEqual(before);
  });
});
