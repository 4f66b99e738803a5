import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSafetensors, type Module, type SafetensorsTensor, safetensorsToTensor, tf, toFloat32 } from '@tessera/core';
import { expect } from 'vitest';

const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');

/** A PyTorch reference case written by fixtures/make_fixtures.py. */
export interface Fixture {
  config: Record<string, any>;
  /** A tensor by full key ('input.x', 'output.y', 'cot.y', ...); the caller disposes it. */
  tensor(key: string): tf.Tensor;
  raw(key: string): SafetensorsTensor;
  has(key: string): boolean;
  /** The `param.*` entries, prefix stripped: a state dict for Module.loadStateDict. */
  params(): Map<string, SafetensorsTensor>;
}

export async function loadFixture(name: string): Promise<Fixture> {
  const file = await loadSafetensors(path.join(DIR, `${name}.safetensors`));
  const raw = (key: string): SafetensorsTensor => {
    const entry = file.tensors.get(key);
    if (!entry) throw new Error(`fixture ${name} has no ${key}`);
    return entry;
  };
  return {
    config: JSON.parse(file.metadata.config ?? '{}'),
    raw,
    has: (key) => file.tensors.has(key),
    tensor: (key) => safetensorsToTensor(raw(key)),
    params: () => new Map([...file.tensors].filter(([k]) => k.startsWith('param.')).map(([k, v]) => [k.slice('param.'.length), v])),
  };
}

/** |actual - expected| <= atol + rtol |expected|, elementwise (1e-4 both by default). */
export function expectClose(actual: tf.Tensor, expected: SafetensorsTensor | tf.Tensor, what: string, tol = 1e-4): void {
  const want = expected instanceof tf.Tensor ? (expected.dataSync() as Float32Array) : toFloat32(expected);
  const wantShape = expected instanceof tf.Tensor ? expected.shape : expected.shape;
  expect(actual.shape, `${what} shape`).toEqual(wantShape);
  const got = actual.dataSync();
  let worst = 0;
  let at = -1;
  for (let i = 0; i < want.length; i++) {
    const excess = Math.abs((got[i] as number) - (want[i] as number)) - tol * Math.abs(want[i] as number);
    if (!(excess <= worst)) {
      worst = excess;
      at = i;
    }
  }
  expect(worst, `${what}: worst error at flat index ${at} (got ${got[at]}, want ${want[at]})`).toBeLessThanOrEqual(tol);
}

/**
 * Checks forward outputs and every parameter gradient (and float-input gradients) against the
 * fixture. `run` maps input tensors (by name) to named outputs.
 */
export function checkAgainstTorch(
  fx: Fixture,
  module: Module,
  inputNames: string[],
  run: (inputs: Record<string, tf.Tensor>) => Record<string, tf.Tensor>,
  tol = 1e-4,
): void {
  tf.tidy(() => {
    const inputs = Object.fromEntries(inputNames.map((n) => [n, fx.tensor(`input.${n}`)]));
    const floatNames = inputNames.filter((n) => fx.has(`grad.input.${n}`));
    const params = [...module.namedParameters()];
    const outputs = run(inputs);
    for (const [name, out] of Object.entries(outputs)) expectClose(out, fx.raw(`output.${name}`), `output ${name}`, tol);

    const loss = (...xs: tf.Tensor[]) => {
      const feed = { ...inputs };
      floatNames.forEach((n, i) => {
        feed[n] = xs[i] as tf.Tensor;
      });
      const outs = run(feed);
      return tf.addN(Object.entries(outs).map(([name, out]) => tf.sum(tf.mul(out, fx.tensor(`cot.${name}`))))) as tf.Scalar;
    };
    const variables = params.map(([, p]) => p.variable);
    const { grads } = tf.variableGrads(() => loss(...floatNames.map((n) => inputs[n] as tf.Tensor)), variables);
    for (const [name, p] of params) expectClose(grads[p.variable.name] as tf.Tensor, fx.raw(`grad.${name}`), `grad ${name}`, tol);
    if (floatNames.length > 0) {
      const inputGrads = tf.grads((...xs: tf.Tensor[]) => loss(...xs))(floatNames.map((n) => inputs[n] as tf.Tensor));
      floatNames.forEach((n, i) => {
        expectClose(inputGrads[i] as tf.Tensor, fx.raw(`grad.input.${n}`), `grad input ${n}`, tol);
      });
    }
  });
}
