import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSafetensors, type SafetensorsTensor, safetensorsToTensor, type tf } from '@tessera/core';
import { expect } from 'vitest';

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'reference.safetensors');

/** PyTorch reference tensors written by fixtures/make_fixtures.py. */
export class Reference {
  private constructor(private readonly entries: Map<string, SafetensorsTensor>) {}

  static async load(): Promise<Reference> {
    return new Reference((await loadSafetensors(FIXTURE)).tensors);
  }

  /** A new tensor (the caller disposes it). */
  tensor(name: string): tf.Tensor {
    const entry = this.entries.get(name);
    if (!entry) throw new Error(`no reference tensor ${name}`);
    return safetensorsToTensor(entry);
  }

  values(name: string): Float32Array | Int32Array {
    const entry = this.entries.get(name);
    if (!entry) throw new Error(`no reference tensor ${name}`);
    return entry.data as Float32Array | Int32Array;
  }

  scalar(name: string): number {
    return this.values(name)[0] as number;
  }
}

/**
 * Same shape as the reference `name`, and every element within `tolerance * max(1, |expected|)`:
 * 1e-5 absolute for values up to 1, 1e-5 relative above (float32 keeps ~7 digits, so a gradient
 * of 300 cannot be checked to 1e-5 absolute).
 */
export function expectClose(actual: tf.Tensor, ref: Reference, name: string, tolerance = 1e-5): void {
  const expected = ref.tensor(name);
  expect(actual.shape).toEqual(expected.shape);
  const a = actual.dataSync();
  const e = expected.dataSync();
  expected.dispose();
  let worst = 0;
  for (let i = 0; i < e.length; i++) {
    const scaled = Math.abs((a[i] as number) - (e[i] as number)) / Math.max(1, Math.abs(e[i] as number));
    worst = Math.max(worst, scaled);
  }
  if (process.env.TESSERA_REPORT_DIFFS) {
    let abs = 0;
    for (let i = 0; i < e.length; i++) abs = Math.max(abs, Math.abs((a[i] as number) - (e[i] as number)));
    console.log(`DIFF ${name} abs ${abs.toExponential(2)} scaled ${worst.toExponential(2)}`);
  }
  expect(worst, `${name}: max scaled |diff| ${worst}`).toBeLessThanOrEqual(tolerance);
}

/** Runs `f` and asserts it throws a TesseraError with `code`. */
export function expectCode(f: () => unknown, code: string): void {
  let caught: unknown;
  try {
    f();
  } catch (error) {
    caught = error;
  }
  expect(caught, 'expected a TesseraError').toBeInstanceOf(Error);
  expect((caught as { code?: string }).code).toBe(code);
}
