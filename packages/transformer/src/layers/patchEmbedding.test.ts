import path from 'node:path';
import { initBackend, isTesseraError, loadSafetensors, type SafetensorsTensor, SeededRandom, safetensorsToTensor, tf } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { PatchEmbedding } from './patchEmbedding.js';

// Reference values from PyTorch: test/fixtures/make_patch_embedding.py.
const fixturePath = path.join(import.meta.dirname, '../../test/fixtures/patch_embedding.safetensors');
let ref: Map<string, SafetensorsTensor>;

function get(name: string): tf.Tensor {
  const entry = ref.get(name);
  if (!entry) throw new Error(`fixture lacks ${name}`);
  return safetensorsToTensor(entry);
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  expect(a.shape).toEqual(b.shape);
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number);
}

function loaded(options: { classToken?: boolean } = {}): PatchEmbedding {
  const module = new PatchEmbedding({ imageSize: [8, 12], patchSize: 4, dim: 8, rng: new SeededRandom(1), ...options });
  const state = new Map(
    ['projection.weight', 'projection.bias', 'cls_token', 'position_embeddings'].map((k) => [k, ref.get(k) as SafetensorsTensor]),
  );
  if (options.classToken === false) {
    state.delete('cls_token');
    const pos = ref.get('position_embeddings') as SafetensorsTensor;
    state.set('position_embeddings', { dtype: 'F32', shape: [1, 6, 8], data: (pos.data as Float32Array).slice(8) });
  }
  module.loadStateDict(state);
  return module;
}

describe('PatchEmbedding', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
    ref = (await loadSafetensors(fixturePath)).tensors;
  });

  it('names and shapes its parameters like Hugging Face ViT', () => {
    const m = new PatchEmbedding({ imageSize: 32, patchSize: 8, dim: 16, rng: new SeededRandom(0) });
    const shapes = Object.fromEntries([...m.namedParameters()].map(([k, p]) => [k, p.variable.shape]));
    expect(shapes).toEqual({
      'projection.weight': [16, 3, 8, 8],
      'projection.bias': [16],
      cls_token: [1, 1, 16],
      position_embeddings: [1, 17, 16],
    });
    expect(m.numPatches).toBe(16);
    expect(m.gridSize).toEqual([4, 4]);
    expect(m.trainableVariables()).toHaveLength(4);
    m.dispose();
  });

  it('equals nn.Conv2d(stride=P) + class token + positions from PyTorch within 1e-5', () => {
    const m = loaded();
    const x = get('input') as tf.Tensor4D;
    const y = m.forward(x);
    const expected = get('output');
    expect(y.shape).toEqual([2, 7, 8]);
    expect(maxAbsDiff(y, expected)).toBeLessThan(1e-5);
    tf.dispose([x, y, expected]);
    m.dispose();
  });

  it('has the gradients PyTorch computes for the input and every parameter', () => {
    const m = loaded();
    const x = get('input') as tf.Tensor4D;
    const r = get('r');
    const loss = () => tf.sum(tf.mul(m.forward(x), r)) as tf.Scalar;
    const { grads, value } = tf.variableGrads(loss, m.trainableVariables());
    const names = new Map([...m.namedParameters()].map(([name, p]) => [p.variable.name, name]));
    for (const [varName, grad] of Object.entries(grads)) {
      const expected = get(`grad.${names.get(varName)}`);
      expect(maxAbsDiff(grad, expected)).toBeLessThan(1e-4);
      expected.dispose();
    }
    expect(Object.keys(grads)).toHaveLength(4);
    const dx = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(m.forward(input as tf.Tensor4D), r)))(x);
    const expectedDx = get('grad.input');
    expect(maxAbsDiff(dx, expectedDx)).toBeLessThan(1e-5);
    tf.dispose([x, r, value, dx, expectedDx, ...Object.values(grads)]);
    m.dispose();
  });

  it('works without a class token', () => {
    const m = loaded({ classToken: false });
    const x = get('input') as tf.Tensor4D;
    const y = m.forward(x);
    const expected = tf.tidy(() => tf.slice(get('output'), [0, 1, 0], [2, 6, 8]));
    expect(maxAbsDiff(y, expected)).toBeLessThan(1e-5);
    expect([...m.namedParameters().keys()]).not.toContain('cls_token');
    tf.dispose([x, y, expected]);
    m.dispose();
  });

  it('resamples learned position embeddings bicubically like F.interpolate, with gradients', () => {
    const m = loaded();
    const x = get('interp.input') as tf.Tensor4D;
    const r = get('interp.r');
    expect(() => m.forward(x)).toThrow(/interpolatePositionEncoding/);
    const y = m.forward(x, { interpolatePositionEncoding: true });
    const expected = get('interp.output');
    expect(maxAbsDiff(y, expected)).toBeLessThan(1e-5);
    const down = m.interpolatePositionEmbeddings([1, 2]);
    const expectedDown = get('interp.down');
    expect(maxAbsDiff(down, expectedDown)).toBeLessThan(1e-5);
    const { grads, value } = tf.variableGrads(
      () => tf.sum(tf.mul(m.forward(x, { interpolatePositionEncoding: true }), r)) as tf.Scalar,
      [m.positionEmbeddings],
    );
    const expectedGrad = get('interp.grad.position_embeddings');
    expect(maxAbsDiff(grads[m.positionEmbeddings.name] as tf.Tensor, expectedGrad)).toBeLessThan(1e-4);
    tf.dispose([x, r, y, expected, down, expectedDown, value, expectedGrad, ...Object.values(grads)]);
    m.dispose();
  });

  it('builds fixed 2-D sin-cos position embeddings exactly as MAE, not trainable', () => {
    const m = new PatchEmbedding({ imageSize: [8, 12], patchSize: 4, dim: 8, positionEmbedding: 'sincos', rng: new SeededRandom(0) });
    const expected = get('sincos.2x3');
    expect(maxAbsDiff(m.positionEmbeddings, expected)).toBeLessThan(1e-6);
    expect(m.trainableVariables()).not.toContain(m.positionEmbeddings);
    const bigger = m.interpolatePositionEmbeddings([3, 5]);
    const expectedBigger = get('sincos.3x5');
    expect(maxAbsDiff(bigger, expectedBigger)).toBeLessThan(1e-6);
    tf.dispose([expected, bigger, expectedBigger]);
    m.dispose();
  });

  it('refuses bad shapes with E_INPUT / E_CONFIG and leaks no tensors', () => {
    const m = new PatchEmbedding({ imageSize: 8, patchSize: 4, dim: 4, rng: new SeededRandom(0) });
    const before = tf.memory().numTensors;
    const gray = tf.zeros([1, 1, 8, 8]) as tf.Tensor4D;
    expect(() => m.forward(gray)).toThrow(expect.objectContaining({ code: 'E_INPUT' }));
    const odd = tf.zeros([1, 3, 10, 10]) as tf.Tensor4D;
    try {
      m.forward(odd, { interpolatePositionEncoding: true });
      expect.unreachable();
    } catch (e) {
      expect(isTesseraError(e, 'E_INPUT')).toBe(true);
    }
    const ok = tf.zeros([2, 3, 8, 8]) as tf.Tensor4D;
    m.forward(ok).dispose();
    tf.dispose([gray, odd, ok]);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => new PatchEmbedding({ imageSize: 10, patchSize: 4, dim: 4, rng: new SeededRandom(0) })).toThrow(
      expect.objectContaining({ code: 'E_CONFIG' }),
    );
    m.dispose();
  });
});
