import { readFileSync } from 'node:fs';
import { initBackend, Module, tf } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { AdamW } from './adamw.js';

interface Reference {
  adamw: {
    shapes: Record<string, number[]>;
    init: Record<string, number[]>;
    betas: [number, number];
    eps: number;
    weight_decay: number;
    steps: Array<{ lr: number; grads: Record<string, number[]>; params: Record<string, number[]> }>;
    final_state: Record<string, { exp_avg: number[]; exp_avg_sq: number[]; step: number }>;
  };
}
const ref = (JSON.parse(readFileSync(new URL('../test/fixtures/torch_reference.json', import.meta.url), 'utf8')) as Reference).adamw;

/** weight (matrix, decayed), bias and scale (no decay), as the fixture's two torch param groups. */
class Params extends Module {
  constructor() {
    super();
    for (const [name, shape] of Object.entries(ref.shapes)) this.addParameter(name, tf.tensor(ref.init[name] as number[], shape));
    this.addParameter('frozen', tf.ones([2]), { trainable: false });
  }
}

/** Relative error of a tensor: max |actual - expected| over max |expected| (elementwise is ill-posed near 0). */
function expectClose(actual: ArrayLike<number>, expected: number[], rel: number) {
  expect(actual.length).toBe(expected.length);
  const scale = Math.max(...expected.map(Math.abs));
  const err = Math.max(...expected.map((e, i) => Math.abs((actual[i] as number) - e)));
  expect(err).toBeLessThanOrEqual(rel * scale);
}

const gradsAt = (i: number) => new Map(Object.entries(ref.steps[i]?.grads ?? {}).map(([k, v]) => [k, tf.tensor(v, ref.shapes[k])]));

describe('AdamW', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  it('matches torch.optim.AdamW step by step, decaying only parameters flagged decay', async () => {
    const m = new Params();
    const named = m.namedParameters();
    expect(named.get('weight')?.decay).toBe(true);
    expect(named.get('bias')?.decay).toBe(false);
    expect(named.get('scale')?.decay).toBe(false);
    const opt = new AdamW(named, { betas: ref.betas, eps: ref.eps, weightDecay: ref.weight_decay });
    expect(opt.parameterNames()).toEqual(['weight', 'bias', 'scale']);
    for (const [i, step] of ref.steps.entries()) {
      const grads = gradsAt(i);
      opt.apply(grads, step.lr);
      tf.dispose([...grads.values()]);
      for (const name of Object.keys(ref.shapes))
        expectClose((await named.get(name)?.variable.data()) as Float32Array, step.params[name] as number[], 1e-6);
    }
    const state = await opt.state();
    expect(state.step).toBe(ref.steps.length);
    for (const [name, s] of Object.entries(ref.final_state)) {
      expectClose(state.tensors.get(`exp_avg.${name}`)?.data as Float32Array, s.exp_avg, 1e-6);
      expectClose(state.tensors.get(`exp_avg_sq.${name}`)?.data as Float32Array, s.exp_avg_sq, 1e-6);
    }
    expect(await named.get('frozen')?.variable.data()).toEqual(new Float32Array([1, 1]));
    opt.dispose();
    // A disposed optimizer says so, rather than calling every parameter unknown.
    expect(() => opt.apply(new Map())).toThrow(expect.objectContaining({ code: 'E_INPUT', message: expect.stringContaining('disposed') }));
    await expect(opt.state()).rejects.toMatchObject({ code: 'E_INPUT' });
    m.dispose();
  });

  it('continues bitwise-identically after its state is saved and loaded into a fresh optimizer', async () => {
    const a = new Params();
    const b = new Params();
    const optA = new AdamW(a.namedParameters(), { betas: ref.betas, weightDecay: 0.1 });
    let optB = new AdamW(b.namedParameters(), { betas: ref.betas, weightDecay: 0.1 });
    for (const [i, step] of ref.steps.entries()) {
      if (i === 2) {
        const saved = await optB.state();
        optB.dispose();
        optB = new AdamW(b.namedParameters(), { betas: ref.betas, weightDecay: 0.1 });
        optB.loadState(saved);
      }
      for (const opt of [optA, optB]) {
        const grads = gradsAt(i);
        opt.apply(grads, step.lr);
        tf.dispose([...grads.values()]);
      }
    }
    for (const name of Object.keys(ref.shapes)) {
      expect(await b.namedParameters().get(name)?.variable.data()).toEqual(await a.namedParameters().get(name)?.variable.data());
    }
    for (const x of [optA, optB, a, b]) x.dispose();
  });

  it('rejects state that does not fit the model and gradients for unknown parameters', async () => {
    const m = new Params();
    const opt = new AdamW(m.namedParameters());
    const state = await opt.state();
    state.tensors.delete('exp_avg.bias');
    expect(() => opt.loadState(state)).toThrow(/missing exp_avg\.bias/);
    const g = new Map([['frozen', tf.ones([2])]]);
    expect(() => opt.apply(g)).toThrow(/non-trainable parameter "frozen"/);
    tf.dispose([...g.values()]);
    opt.dispose();
    m.dispose();
  });

  it('frees no tensor it does not own across steps', () => {
    const m = new Params();
    const opt = new AdamW(m.namedParameters());
    const grads = gradsAt(0);
    opt.apply(grads);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) opt.apply(grads);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([...grads.values()]);
    opt.dispose();
    m.dispose();
  });
});
