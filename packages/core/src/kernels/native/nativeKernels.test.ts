import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { loadNative, type NativeAddon } from '@tessera/native';
import '@tensorflow/tfjs-backend-cpu';
import { isTesseraError, SeededRandom } from '@tessera/base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../backend.js';
import { matMul } from '../../ops/matMul.js';
import { tf } from '../../tf.js';
import { useFastWasmKernels } from '../wasmKernels.js';
import { fusedAttention, fusedLinear, fusedSoftmaxCrossEntropy, fusedGelu as gelu, fusedLayerNorm as layerNorm } from './fusedOps.js';
import { activeNativeAddon, NATIVE_KERNELS, useNativeKernels } from './nativeKernels.js';
import { checkWasmInternals } from './selfCheck.js';

// Reference: the stock tfjs-wasm kernels (Tessera's wasm fixes and native kernels off) in the
// same process, so every native kernel is compared with the kernel it replaces; where stock
// wasm is wrong (batch broadcasting other than 1-vs-n, k = 0: see the cases) the cpu backend.
type Input = { shape: number[]; data: Float32Array | Int32Array };
const rng = new SeededRandom(11);
let addon: NativeAddon;

function uniform(shape: number[], low = -1, high = 1): Input {
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, data: rng.array(n, (r) => r.uniform(low, high)) };
}
function ints(shape: number[], values: number[]): Input {
  return { shape, data: Int32Array.from(values) };
}

function evaluate(inputs: Input[], fn: (...xs: tf.Tensor[]) => tf.Tensor[]) {
  const outputs = tf.tidy(() => fn(...inputs.map((x) => tf.tensor(x.data, x.shape, x.data instanceof Int32Array ? 'int32' : 'float32'))));
  const values = outputs.map((o) => ({ shape: o.shape, dtype: o.dtype, data: o.dataSync().slice() }));
  tf.dispose(outputs);
  return values;
}

/** fn's outputs with native kernels equal those of stock wasm (or cpu) within 1e-5 relative (scale max(1, |x|)). */
async function expectSameAsStock(
  inputs: Input[],
  fn: (...xs: tf.Tensor[]) => tf.Tensor[],
  options: { backend?: 'wasm' | 'cpu'; referenceFn?: (...xs: tf.Tensor[]) => tf.Tensor[] } = {},
) {
  useNativeKernels(null);
  useFastWasmKernels(false);
  await tf.setBackend(options.backend ?? 'wasm');
  const reference = evaluate(inputs, options.referenceFn ?? fn);
  await tf.setBackend('wasm');
  useFastWasmKernels(true);
  useNativeKernels(addon);
  const ours = evaluate(inputs, fn);
  expect(ours.length).toBe(reference.length);
  ours.forEach((o, i) => {
    const r = reference[i] as (typeof reference)[0];
    expect(o.shape, `output ${i} shape`).toEqual(r.shape);
    expect(o.dtype, `output ${i} dtype`).toBe(r.dtype);
    let worst = 0;
    for (let j = 0; j < r.data.length; j++) {
      const [a, b] = [o.data[j] as number, r.data[j] as number];
      if (Object.is(a, b)) continue;
      worst = Math.max(worst, Math.abs(a - b) / Math.max(1, Math.abs(b)));
    }
    expect(worst, `output ${i}`).toBeLessThan(1e-5);
  });
}

const transposed = (s: number[], t: boolean) => (t ? [...s.slice(0, -2), s[s.length - 1] as number, s[s.length - 2] as number] : s);

describe('native kernels on the wasm heap', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm', native: false });
    const loaded = loadNative();
    if (!loaded.ok) throw new Error(`these tests need the built addon: ${loaded.reason}`);
    addon = loaded.addon;
    expect(checkWasmInternals(tf.backend() as BackendWasm, '4.22.0', addon)).toBeNull();
  });
  afterAll(() => {
    useNativeKernels(null);
  });

  // When both batch shapes broadcast ([2,1] x [1,3]) tfjs (wasm and cpu alike) pairs batch
  // items by flat index modulo each batch size, not by numpy broadcasting; native kernels
  // broadcast like numpy and PyTorch, so the reference broadcasts the operands explicitly first.
  const matMulCases: Array<[string, number[], number[], boolean?]> = [
    ['2-D', [5, 7], [7, 3]],
    ['odd sizes', [33, 65], [65, 17]],
    ['3-D batched', [4, 5, 7], [4, 7, 3]],
    ['batch of one', [1, 5, 7], [1, 7, 3]],
    ['3-D x shared 2-D', [4, 5, 7], [7, 3]],
    ['2-D x 3-D', [5, 7], [4, 7, 3]],
    ['4-D attention', [2, 3, 6, 4], [2, 3, 4, 6]],
    ['broadcast [2,1] x [1,3]', [2, 1, 5, 7], [1, 3, 7, 3], true],
    ['broadcast rank 3 x rank 4', [3, 5, 7], [2, 1, 7, 3], true],
  ];
  for (const [name, aShape, bShape, bothBroadcast] of matMulCases) {
    for (const tA of [false, true]) {
      for (const tB of [false, true]) {
        it(`BatchMatMul ${name} transposeA=${tA} transposeB=${tB}: values and gradients`, async () => {
          const a = uniform(transposed(aShape, tA));
          const b = uniform(transposed(bShape, tB));
          const outer = tf.broadcast_util.assertAndGetBroadcastShape(aShape.slice(0, -2), bShape.slice(0, -2));
          const w = uniform([...outer, aShape[aShape.length - 2] as number, bShape[bShape.length - 1] as number]);
          const full = (t: tf.Tensor) => tf.broadcastTo(t, [...outer, ...t.shape.slice(-2)]);
          // f = sum(op(a) op(b) * w): dA and dB are products with transposes too.
          const withGrads = (product: (p: tf.Tensor, q: tf.Tensor) => tf.Tensor) => (x: tf.Tensor, y: tf.Tensor, wt: tf.Tensor) => {
            const [gx, gy] = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(product(p, q), wt)))([x, y]);
            return [product(x, y), gx as tf.Tensor, gy as tf.Tensor];
          };
          await expectSameAsStock([a, b, w], withGrads((p, q) => matMul(p, q, tA, tB)) as never, {
            referenceFn: bothBroadcast ? (withGrads((p, q) => tf.matMul(full(p), full(q), tA, tB)) as never) : undefined,
          });
        });
      }
    }
  }

  // Stock wasm leaves a k = 0 product uninitialised (XNNPACK refuses it), so: cpu.
  it('BatchMatMul with empty operands (m = 0, k = 0, batch = 0)', async () => {
    for (const [a, b] of [
      [
        [0, 3],
        [3, 4],
      ],
      [
        [2, 0],
        [0, 4],
      ],
      [
        [0, 2, 3],
        [0, 3, 4],
      ],
    ] as Array<[number[], number[]]>) {
      await expectSameAsStock([uniform(a), uniform(b)], (x, y) => [tf.matMul(x as tf.Tensor, y as tf.Tensor)], { backend: 'cpu' });
    }
  });

  it('reductions over adjacent and other axes, keepDims, all axes, empty', async () => {
    const x = uniform([3, 4, 5, 6]);
    await expectSameAsStock([x], (t) => {
      const v = t as tf.Tensor;
      return [
        tf.sum(v),
        tf.sum(v, 0),
        tf.sum(v, [1, 2]),
        tf.sum(v, -1, true),
        tf.sum(v, [0, 2]), // not adjacent: the fallback kernel
        tf.mean(v, [2, 3]),
        tf.mean(v, 1, true),
        tf.max(v, -1),
        tf.max(v, [0, 1]),
        tf.min(v, 2),
        tf.min(v),
        tf.logSumExp(v, -1),
      ];
    });
    await expectSameAsStock([uniform([0, 4]), uniform([3, 37])], (e, o) => [
      tf.sum(e as tf.Tensor, 0),
      tf.sum(e as tf.Tensor, 1),
      tf.max(o as tf.Tensor, 1),
      tf.sum(o as tf.Tensor, 1),
    ]);
  });

  it('unary ops and their gradients, odd and empty sizes', async () => {
    for (const shape of [[37], [3, 1, 5], [0]]) {
      const x = uniform(shape, 0.1, 3);
      await expectSameAsStock([x], (t) => {
        const v = t as tf.Tensor;
        const outs = [
          tf.exp(v),
          tf.log(v),
          tf.neg(v),
          tf.sqrt(v),
          tf.rsqrt(v),
          tf.square(v),
          tf.tanh(tf.sub(v, 1.5)),
          tf.erf(tf.sub(v, 1.5)),
          tf.sigmoid(tf.sub(v, 1.5)),
        ];
        const g = tf.grad((p: tf.Tensor) => tf.sum(tf.add(tf.add(tf.exp(p), tf.log(p)), tf.add(tf.tanh(p), tf.sqrt(p)))))(v);
        return [...outs, g];
      });
    }
    // exp over the range softmax sees, including large negatives and the overflow edge
    await expectSameAsStock([{ shape: [6], data: Float32Array.from([-100, -20, -1e-3, 0, 20, 88]) }], (t) => [
      tf.exp(t as tf.Tensor),
      tf.tanh(t as tf.Tensor),
    ]);
  });

  it('binary ops with broadcasting, scalars and empty shapes, and their gradients', async () => {
    const shapes: Array<[number[], number[]]> = [
      [
        [2, 3, 4],
        [2, 3, 4],
      ],
      [[2, 3, 4], [4]],
      [
        [2, 1, 4],
        [3, 1],
      ],
      [[5], []],
      [[], [5]],
      [
        [1, 1, 7],
        [2, 3, 1],
      ],
      [[0, 3], [3]],
      [
        [2, 3, 2, 3, 2, 3, 2, 3, 2],
        [3, 1, 3, 1, 3, 1, 3, 1],
      ], // rank 9: stock wasm (XNNPACK) stops at 6, so: cpu
    ];
    for (const [sa, sb] of shapes) {
      await expectSameAsStock(
        [uniform(sa), uniform(sb, 0.5, 2)],
        (p, q) => {
          const [a, b] = [p as tf.Tensor, q as tf.Tensor];
          const grads = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.div(tf.mul(tf.add(x, y), tf.sub(x, y)), y)))([a, b]);
          return [
            tf.add(a, b),
            tf.sub(a, b),
            tf.mul(a, b),
            tf.div(a, b),
            tf.squaredDifference(a, b),
            tf.maximum(a, b),
            tf.pow(tf.abs(a), b),
            ...grads,
          ];
        },
        { backend: sa.length > 6 ? 'cpu' : 'wasm' },
      );
    }
  });

  it('pow with the scalar exponents GELU uses (x**3 and its gradient x**2)', async () => {
    await expectSameAsStock([uniform([4, 9], -2, 2)], (t) => {
      const v = t as tf.Tensor;
      return [tf.pow(v, 3), tf.pow(v, 2), tf.grad((x: tf.Tensor) => tf.sum(tf.pow(x, 3)))(v)];
    });
  });

  it('softmax, log-softmax and softmax cross-entropy with gradients', async () => {
    await expectSameAsStock([uniform([2, 3, 7], -5, 5), uniform([6, 11], -30, 30), uniform([6, 11])], (x, logits, w) => {
      const ls = logits as tf.Tensor2D;
      const labels = tf.softmax(w as tf.Tensor);
      return [
        tf.softmax(x as tf.Tensor),
        tf.logSoftmax(ls),
        tf.grad((p: tf.Tensor) => tf.sum(tf.mul(tf.softmax(p), w as tf.Tensor)))(ls),
        tf.losses.softmaxCrossEntropy(labels, ls),
        tf.grad((p: tf.Tensor) => tf.losses.softmaxCrossEntropy(labels, p) as tf.Scalar)(ls),
      ];
    });
  });

  it('fused layer norm equals the composite ops, values and gradients (x, gamma, beta)', async () => {
    // (a width of 1 is degenerate: dx is exactly 0, which the composite ops miss by rounding x 1/sqrt(eps))
    for (const shape of [
      [2, 5, 16],
      [3, 7],
      [1, 3],
    ]) {
      const d = shape[shape.length - 1] as number;
      await expectSameAsStock([uniform(shape, -3, 5), uniform([d], 0.5, 1.5), uniform([d]), uniform(shape)], (x, g, b, w) => {
        const f = (xv: tf.Tensor, gv: tf.Tensor, bv: tf.Tensor) => tf.sum(tf.mul(layerNorm(xv, gv, bv), w as tf.Tensor));
        return [
          layerNorm(x as tf.Tensor, g as tf.Tensor, b as tf.Tensor, 1e-5),
          ...tf.grads(f)([x as tf.Tensor, g as tf.Tensor, b as tf.Tensor]),
        ];
      });
    }
    const error = (() => {
      try {
        layerNorm(tf.zeros([2, 4]), tf.ones([3]), tf.zeros([4]));
      } catch (e) {
        return e;
      }
    })();
    expect(isTesseraError(error, 'E_INPUT')).toBe(true);
  });

  it('fused GELU (exact and tanh) equals the composite ops, values and gradients', async () => {
    for (const approximate of [false, true]) {
      await expectSameAsStock([uniform([3, 37], -6, 6), uniform([3, 37])], (x, w) => [
        gelu(x as tf.Tensor, approximate),
        tf.grad((v: tf.Tensor) => tf.sum(tf.mul(gelu(v, approximate), w as tf.Tensor)))(x as tf.Tensor),
      ]);
    }
  });

  it('fused linear (matmul + bias + any activation, quick GELU too) equals the composite ops, values and gradients (x, W, b)', async () => {
    for (const [xShape, out] of [
      [[2, 5, 16], 24],
      [[7, 3], 1],
      [[1, 9], 33],
    ] as Array<[number[], number]>) {
      const inF = xShape[xShape.length - 1] as number;
      const ys = [...xShape.slice(0, -1), out];
      for (const activation of ['linear', 'gelu', 'gelu_tanh', 'relu', 'quick_gelu'] as const) {
        for (const withBias of [true, false]) {
          await expectSameAsStock([uniform(xShape, -2, 2), uniform([out, inF]), uniform([out]), uniform(ys)], (x, w, b, dy) => {
            const bias = withBias ? (b as tf.Tensor) : null;
            const f = (xv: tf.Tensor, wv: tf.Tensor, bv?: tf.Tensor) =>
              tf.sum(tf.mul(fusedLinear(xv, wv, bv ?? null, activation), dy as tf.Tensor));
            const grads = tf.grads(f)([x, w, ...(bias ? [bias] : [])] as tf.Tensor[]);
            return [fusedLinear(x as tf.Tensor, w as tf.Tensor, bias, activation), ...grads];
          });
        }
      }
    }
    // Empty rows fall back to the tfjs ops; shapes that do not fit are typed errors.
    expect(fusedLinear(tf.zeros([0, 4]), tf.ones([3, 4]), tf.zeros([3]), 'gelu').shape).toEqual([0, 3]);
    expect(() => fusedLinear(tf.zeros([2, 4]), tf.ones([3, 5]), null)).toThrow(expect.objectContaining({ code: 'E_INPUT' }));
  });

  it('fused attention equals attention in plain ops (heads split by transposes, masks as -1e9 biases), on 1 and 3 threads', async () => {
    /** The reference: what MultiHeadAttention does after its projections. */
    const attentionOps = (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, heads: number, mask: tf.Tensor | null, causal: boolean) => {
      const [b, sq, d] = q.shape as [number, number, number];
      const sk = k.shape[1] as number;
      const dh = d / heads;
      const split = (t: tf.Tensor, s: number) => tf.transpose(tf.reshape(t, [b, s, heads, dh]), [0, 2, 1, 3]);
      let scores = tf.mul(tf.matMul(split(q, sq), split(k, sk), false, true), 1 / Math.sqrt(dh));
      if (mask) scores = tf.add(scores, tf.reshape(tf.mul(tf.sub(1, mask), -1e9), [b, 1, 1, sk]));
      if (causal) {
        const hidden = Array.from({ length: sq * sk }, (_, i) => (i % sk > sk - sq + Math.floor(i / sk) ? -1e9 : 0));
        scores = tf.add(scores, tf.tensor(hidden, [1, 1, sq, sk]));
      }
      const context = tf.matMul(tf.softmax(scores), split(v, sk));
      return tf.reshape(tf.transpose(context, [0, 2, 1, 3]), [b, sq, d]);
    };
    // Self-attention (causal, padded; item 1 fully masked: uniform weights), cross-attention, no mask.
    for (const [b, sq, sk, d, heads, causal, maskValues] of [
      [2, 5, 5, 12, 3, true, [1, 1, 1, 0, 0, 0, 0, 0, 0, 0]],
      [2, 3, 7, 8, 2, false, [1, 1, 1, 1, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1]],
      [3, 4, 6, 16, 4, true, null],
    ] as Array<[number, number, number, number, number, boolean, number[] | null]>) {
      for (const threads of [1, 3]) {
        addon.setThreads(threads);
        const inputs = [
          uniform([b, sq, d], -2, 2),
          uniform([b, sk, d], -2, 2),
          uniform([b, sk, d]),
          ints([b, sk], maskValues ?? Array(b * sk).fill(1)),
        ];
        const mask = (m: tf.Tensor) => (maskValues ? m : null);
        await expectSameAsStock(
          inputs,
          (q, k, v, m) => {
            const out = fusedAttention(q as tf.Tensor, k as tf.Tensor, v as tf.Tensor, heads, {
              keyPaddingMask: mask(m as tf.Tensor) ?? undefined,
              causal,
            });
            if (!out) throw new Error('fusedAttention fell back with native kernels active');
            return [out];
          },
          {
            referenceFn: (q, k, v, m) => [
              attentionOps(q as tf.Tensor, k as tf.Tensor, v as tf.Tensor, heads, mask(m as tf.Tensor), causal),
            ],
          },
        );
      }
      addon.setThreads(1);
    }
    // While gradients are recorded the caller's ops run; shapes that do not fit are typed errors.
    const x = tf.ones([1, 2, 4]);
    expect(tf.grad((t: tf.Tensor) => fusedAttention(t, t, t, 2) ?? tf.sum(t))(x).shape).toEqual([1, 2, 4]);
    expect(() => fusedAttention(x, tf.ones([1, 3, 4]), x, 2)).toThrow(expect.objectContaining({ code: 'E_INPUT' }));
    expect(() => fusedAttention(x, x, x, 3)).toThrow(expect.objectContaining({ code: 'E_INPUT' }));
    tf.dispose(x);
  });

  it('fused softmax cross-entropy equals the composite ops and tf.losses, with smoothing and ignored labels', async () => {
    const labels = ints([2, 3], [4, -100, 0, 6, 6, 1]);
    for (const labelSmoothing of [0, 0.1]) {
      await expectSameAsStock([uniform([2, 3, 7], -8, 8), labels], (z, y) => {
        const f = (v: tf.Tensor) => fusedSoftmaxCrossEntropy(v, y as tf.Tensor, { labelSmoothing });
        return [f(z as tf.Tensor), tf.grad(f)(z as tf.Tensor)];
      });
    }
    // without ignored labels it is tf.losses.softmaxCrossEntropy on one-hot targets
    await expectSameAsStock(
      [uniform([5, 7], -8, 8), ints([5], [0, 6, 3, 3, 1])],
      (z, y) => [
        fusedSoftmaxCrossEntropy(z as tf.Tensor, y as tf.Tensor),
        tf.grad((v: tf.Tensor) => fusedSoftmaxCrossEntropy(v, y as tf.Tensor))(z as tf.Tensor),
      ],
      {
        referenceFn: (z, y) => {
          const f = (v: tf.Tensor) => tf.losses.softmaxCrossEntropy(tf.oneHot(y as tf.Tensor, 7), v) as tf.Scalar;
          return [f(z as tf.Tensor), tf.grad(f)(z as tf.Tensor)];
        },
      },
    );
    expect(() => fusedSoftmaxCrossEntropy(tf.zeros([2, 3]), tf.zeros([2]))).toThrow(/int32/);
  });

  it('transpose of float32 and int32 tensors, any permutation', async () => {
    const x = uniform([2, 3, 4, 5]);
    const ids = ints([3, 4], [...Array(12).keys()]);
    await expectSameAsStock([x, ids, uniform([2, 3, 1, 4, 2])], (t, i, u) => [
      tf.transpose(t as tf.Tensor, [0, 2, 1, 3]),
      tf.transpose(t as tf.Tensor, [3, 2, 1, 0]),
      tf.transpose(t as tf.Tensor, [1, 0, 2, 3]),
      tf.transpose(i as tf.Tensor),
      tf.transpose(u as tf.Tensor, [4, 2, 0, 3, 1]),
      tf.grad((p: tf.Tensor) => tf.sum(tf.mul(tf.transpose(p, [0, 2, 1, 3]), tf.transpose(tf.square(t as tf.Tensor), [0, 2, 1, 3]))))(
        t as tf.Tensor,
      ),
    ]);
  });

  it('gather along axes 0 and 1 with repeated ids, and its scatter-add gradient', async () => {
    const ids = ints([2, 3], [0, 4, 4, 1, 0, 4]);
    await expectSameAsStock([uniform([5, 3]), ids, uniform([2, 5, 3]), uniform([2, 3, 3])], (table, i, cube, w) => {
      const idx = i as tf.Tensor;
      return [
        tf.gather(table as tf.Tensor, idx),
        tf.gather(cube as tf.Tensor, idx, 1),
        tf.gather(idx, tf.tensor1d([1, 0], 'int32')),
        tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, idx), w as tf.Tensor)))(table as tf.Tensor),
      ];
    });
  });

  it('gather rejects out-of-range ids with an error instead of reading outside the tensor', async () => {
    useNativeKernels(addon);
    const table = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    const ids = tf.tensor1d([0, 2], 'int32');
    expect(() => tf.gather(table, ids)).toThrow(/index 2 at position 1 is not in \[0, 2\)/);
    tf.dispose([table, ids]);
  });

  it('identity and same-dtype cast alias the data; other casts convert', async () => {
    await expectSameAsStock([uniform([3, 4]), ints([4], [1, -2, 3, 0])], (x, i) => [
      tf.clone(x as tf.Tensor),
      tf.cast(x as tf.Tensor, 'float32'),
      tf.cast(x as tf.Tensor, 'int32'),
      tf.cast(i as tf.Tensor, 'float32'),
      tf.cast(i as tf.Tensor, 'bool'),
    ]);
    useNativeKernels(addon);
    const x = tf.tensor1d([1, 2, 3]);
    const y = tf.clone(x);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3]); // still alive: reference counted
    y.dispose();
  });

  it('swapping Tessera wasm kernels keeps the native kernels on top', async () => {
    useNativeKernels(addon);
    useFastWasmKernels(false);
    expect(activeNativeAddon()).toBe(addon);
    expect(tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc.name).not.toBe('fastBatchMatMul');
    useFastWasmKernels(true);
    expect(activeNativeAddon()).toBe(addon);
    expect(NATIVE_KERNELS).toContain('BatchMatMul');
  });
});
