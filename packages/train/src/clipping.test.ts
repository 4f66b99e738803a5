import { readFileSync } from 'node:fs';
import { initBackend, tf } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { clipGradNorm, globalNorm } from './clipping.js';

interface ClipCase {
  shapes: Record<string, number[]>;
  max_norm: number;
  grads: Record<string, number[]>;
  clipped: Record<string, number[]>;
  total_norm: number;
}
const cases = (JSON.parse(readFileSync(new URL('../test/fixtures/torch_reference.json', import.meta.url), 'utf8')) as { clip: ClipCase[] })
  .clip;

describe('clipGradNorm', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  it.each(cases.map((c) => [c.max_norm, c] as const))('matches torch.nn.utils.clip_grad_norm_ (max_norm %s)', async (_, c) => {
    const grads = new Map(Object.entries(c.grads).map(([k, v]) => [k, tf.tensor(v, c.shapes[k])]));
    const before = tf.memory().numTensors;
    const { grads: clipped, norm } = clipGradNorm(grads, c.max_norm);
    expect(tf.memory().numTensors).toBe(before + grads.size);
    expect(norm).toBeCloseTo(c.total_norm, 5);
    for (const [k, expected] of Object.entries(c.clipped)) {
      const actual = await clipped.get(k)?.data();
      for (const [i, e] of expected.entries()) expect(actual?.[i]).toBeCloseTo(e, 6);
    }
    tf.dispose([...grads.values(), ...clipped.values()]);
  });

  it('computes the global norm as the norm of all entries together (hand value)', () => {
    const grads = new Map<string, tf.Tensor>([
      ['a', tf.tensor1d([3, 0])],
      ['b', tf.tensor2d([[4]])],
    ]);
    expect(globalNorm(grads)).toBe(5);
    expect(globalNorm(new Map())).toBe(0);
    tf.dispose([...grads.values()]);
  });
});
