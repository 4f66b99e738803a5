import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { SeededRandom } from '@tessera/base';
import { loadNative, type NativeAddon } from '@tessera/native';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../backend.js';
import { matMul } from '../../ops/matMul.js';
import { tf } from '../../tf.js';
import { fusedGelu, fusedLayerNorm, fusedSoftmaxCrossEntropy } from './fusedOps.js';
import { nativeAdamStep } from './nativeAdam.js';
import { heapBuffer } from './nativeHeap.js';
import { useNativeKernels } from './nativeKernels.js';

// A whole training step of a tiny Transformer (embedding gather, layer norm, 4-D attention,
// GELU MLP, softmax cross-entropy, Adam) with and without native kernels: plain tfjs ops in
// the first block, Tessera's fused ops in the second.
const [B, S, D, H, FF, V] = [2, 8, 16, 2, 32, 50];
let addon: NativeAddon;

function buildModel() {
  const rng = new SeededRandom(7);
  const variable = (init: tf.Tensor) => {
    const v = tf.variable(init);
    init.dispose();
    return v;
  };
  const normal = (shape: number[], std: number) =>
    variable(
      tf.tensor(
        rng.array(
          shape.reduce((a, b) => a * b, 1),
          (r) => r.normal(0, std),
        ),
        shape,
      ),
    );
  return {
    emb: normal([V, D], 1),
    pos: normal([S, D], 0.1),
    wqkv: normal([D, 3 * D], 0.2),
    wo: normal([D, D], 0.2),
    w1: normal([D, FF], 0.2),
    b1: variable(tf.zeros([FF])),
    w2: normal([FF, D], 0.2),
    g: variable(tf.ones([D])),
    beta: variable(tf.zeros([D])),
    head: normal([D, V], 0.2),
  };
}
type Model = ReturnType<typeof buildModel>;

function layerNorm(x: tf.Tensor, g: tf.Tensor): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), g);
}

function block(p: Model, x: tf.Tensor, fused: boolean): tf.Tensor {
  const dh = D / H;
  const norm = (t: tf.Tensor) => (fused ? fusedLayerNorm(t, p.g, p.beta) : layerNorm(t, p.g));
  const [q, k, v] = tf.split(matMul(norm(x), p.wqkv), 3, -1).map((t) => tf.transpose(tf.reshape(t, [B, S, H, dh]), [0, 2, 1, 3])) as [
    tf.Tensor,
    tf.Tensor,
    tf.Tensor,
  ];
  const att = tf.softmax(tf.mul(matMul(q, k, false, true), 1 / Math.sqrt(dh)));
  const y = tf.add(x, matMul(tf.reshape(tf.transpose(matMul(att, v), [0, 2, 1, 3]), [B, S, D]), p.wo));
  const h = tf.add(matMul(norm(y), p.w1), p.b1);
  const gelu = fused
    ? fusedGelu(h)
    : tf.mul(tf.mul(0.5, h), tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(h, tf.mul(0.044715, tf.pow(h, 3)))))));
  return tf.add(y, matMul(gelu, p.w2));
}

function loss(p: Model, ids: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  const x = block(p, block(p, tf.add(tf.gather(p.emb, ids), p.pos), false), true);
  const logits = tf.reshape(matMul(layerNorm(x, p.g), p.head), [B * S, V]);
  const plain = tf.losses.softmaxCrossEntropy(tf.oneHot(tf.reshape(labels, [-1]), V), logits) as tf.Scalar;
  return tf.add(plain, fusedSoftmaxCrossEntropy(logits, tf.reshape(labels, [-1]), { labelSmoothing: 0.1 }));
}

function batch() {
  const rng = new SeededRandom(3);
  return [0, 1].map(() =>
    tf.tensor2d(
      Int32Array.from({ length: B * S }, () => rng.int(V)),
      [B, S],
      'int32',
    ),
  ) as [tf.Tensor, tf.Tensor];
}

function relativeError(ours: ArrayLike<number>, reference: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < reference.length; i++) {
    worst = Math.max(worst, Math.abs((ours[i] as number) - (reference[i] as number)) / Math.max(1, Math.abs(reference[i] as number)));
  }
  return worst;
}

/** Loss and every parameter gradient of one step. */
function gradients(native: boolean): Array<Float32Array> {
  useNativeKernels(native ? addon : null);
  const model = buildModel();
  const [ids, labels] = batch();
  const { value, grads } = tf.variableGrads(() => loss(model, ids, labels));
  const out = [
    value.dataSync().slice() as Float32Array,
    ...Object.values(model).map((v) => (grads[v.name] as tf.Tensor).dataSync().slice() as Float32Array),
  ];
  tf.dispose([value, ...Object.values(grads), ids, labels, ...Object.values(model)]);
  return out;
}

/** Losses of `steps` Adam steps; grows the wasm heap half-way and checks the tensor count stays flat. */
function train(native: boolean, steps: number) {
  useNativeKernels(native ? addon : null);
  const backend = tf.backend() as BackendWasm;
  const model = buildModel();
  const [ids, labels] = batch();
  const optimizer = tf.train.adam(1e-2);
  const losses: number[] = [];
  const counts: number[] = [];
  let ballast: tf.Tensor | null = null;
  let grewFrom = 0;
  for (let step = 0; step < steps; step++) {
    if (step === steps / 2) {
      // Hold more than the whole heap so it must grow (detaching the ArrayBuffer native kernels saw before).
      grewFrom = heapBuffer(backend).byteLength;
      ballast = tf.fill([grewFrom / 4 + 1024], 1);
    }
    const value = optimizer.minimize(() => loss(model, ids, labels), true) as tf.Scalar;
    losses.push(value.dataSync()[0] as number);
    value.dispose();
    counts.push(tf.memory().numTensors);
  }
  const grew = heapBuffer(backend).byteLength > grewFrom;
  tf.dispose([ballast as tf.Tensor, ids, labels, ...Object.values(model)]);
  optimizer.dispose();
  return { losses, counts, grew };
}

describe('training with native kernels', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm', native: false });
    const loaded = loadNative();
    if (!loaded.ok) throw new Error(`these tests need the built addon: ${loaded.reason}`);
    addon = loaded.addon;
  });
  afterAll(() => useNativeKernels(null));

  it('loss and gradients of a full Transformer step equal those without native kernels', () => {
    const reference = gradients(false);
    const ours = gradients(true);
    expect(ours.length).toBe(11);
    ours.forEach((g, i) => {
      expect(g.length).toBe((reference[i] as Float32Array).length);
      expect(relativeError(g, reference[i] as Float32Array), `tensor ${i}`).toBeLessThan(1e-5);
    });
  });

  it('trains through heap growth: same losses, flat tensor count, no leak', () => {
    const before = tf.memory().numTensors;
    const ours = train(true, 30);
    const reference = train(false, 30);
    expect(ours.grew).toBe(true);
    expect(relativeError(ours.losses, reference.losses)).toBeLessThan(1e-4);
    expect(ours.losses.at(-1)).toBeLessThan((ours.losses[0] as number) / 4); // it learns
    // after the first step (Adam's moments) and apart from the one ballast tensor, flat:
    expect(new Set(ours.counts.slice(1, 15)).size).toBe(1);
    expect(new Set(ours.counts.slice(15)).size).toBe(1);
    expect(ours.counts[15]).toBe((ours.counts[14] as number) + 1);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('nativeAdamStep equals tf.train.adam, and its AdamW decay equals the same rule in plain ops', () => {
    const run = (native: boolean, make: () => { step: (f: () => tf.Scalar) => void; dispose: () => void }) => {
      useNativeKernels(native ? addon : null);
      const model = buildModel();
      const [ids, labels] = batch();
      const optimizer = make();
      for (let i = 0; i < 3; i++) optimizer.step(() => loss(model, ids, labels));
      const values = Object.values(model).map((v) => v.dataSync().slice() as Float32Array);
      optimizer.dispose();
      tf.dispose([ids, labels, ...Object.values(model)]);
      return values;
    };
    const tfAdam = () => {
      const o = tf.train.adam(1e-2, 0.9, 0.999, 1e-8);
      return { step: (f: () => tf.Scalar) => tf.dispose(o.minimize(f, true) as tf.Scalar), dispose: () => o.dispose() };
    };
    // AdamW written out: through nativeAdamStep (which must take the native path) or in tfjs ops.
    const adamW = (weightDecay: number, useNative: boolean) => () => {
      const moments = new Map<string, [tf.Variable, tf.Variable]>();
      let step = 0;
      const zeros = (like: tf.Tensor) => {
        const z = tf.zerosLike(like);
        const v = tf.variable(z, false);
        z.dispose();
        return v;
      };
      return {
        step: (f: () => tf.Scalar) => {
          const { value, grads } = tf.variableGrads(f);
          step += 1;
          const settings = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay, step };
          for (const [name, grad] of Object.entries(grads)) {
            const p = tf.engine().registeredVariables[name] as tf.Variable;
            if (!moments.has(name)) moments.set(name, [zeros(p), zeros(p)]);
            const [m, v] = moments.get(name) as [tf.Variable, tf.Variable];
            if (useNative) {
              expect(nativeAdamStep(p, grad, m, v, settings)).toBe(true);
              continue;
            }
            expect(nativeAdamStep(p, grad, m, v, settings)).toBe(false); // native kernels are off
            tf.tidy(() => {
              const mNew = tf.add(tf.mul(m, 0.9), tf.mul(grad, 0.1));
              const vNew = tf.add(tf.mul(v, 0.999), tf.mul(tf.square(grad), 0.001));
              const mHat = tf.div(mNew, 1 - 0.9 ** step);
              const vHat = tf.div(vNew, 1 - 0.999 ** step);
              p.assign(tf.sub(tf.mul(p, 1 - 1e-2 * weightDecay), tf.mul(tf.div(mHat, tf.add(tf.sqrt(vHat), 1e-8)), 1e-2)));
              m.assign(mNew);
              v.assign(vNew);
            });
          }
          tf.dispose([value, ...Object.values(grads)]);
        },
        dispose: () => tf.dispose([...moments.values()].flat()),
      };
    };
    const before = tf.memory().numTensors;
    const reference = run(false, tfAdam);
    const ours = run(true, adamW(0, true));
    ours.forEach((p, i) => {
      expect(relativeError(p, reference[i] as Float32Array), `variable ${i}`).toBeLessThan(1e-5);
    });
    const decayed = run(true, adamW(0.1, true));
    const decayedPlain = run(false, adamW(0.1, false));
    decayed.forEach((p, i) => {
      expect(relativeError(p, decayedPlain[i] as Float32Array), `variable ${i}`).toBeLessThan(1e-5);
    });
    expect(relativeError(decayed[0] as Float32Array, ours[0] as Float32Array)).toBeGreaterThan(1e-4); // the decay does act
    expect(tf.memory().numTensors).toBe(before);
  });
});
