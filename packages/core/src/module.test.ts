import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isTesseraError } from '@tessera/base';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './backend.js';
import { Module } from './module.js';
import { tf } from './tf.js';

class Linear extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
  constructor(inFeatures: number, outFeatures: number, fill = 1) {
    super();
    this.weight = this.addParameter('weight', tf.fill([outFeatures, inFeatures], fill));
    this.bias = this.addParameter('bias', tf.zeros([outFeatures]));
  }
}

class Block extends Module {
  readonly q_proj: Linear;
  readonly norm: tf.Variable;
  constructor(fill = 1) {
    super();
    this.q_proj = this.addModule('q_proj', new Linear(3, 2, fill));
    this.norm = this.addParameter('norm_weight', tf.ones([3]), { trainable: false });
  }
}

class Encoder extends Module {
  constructor(fill = 1) {
    super();
    for (let i = 0; i < 2; i++) this.addModule(`layer_${i}`, new Block(fill));
  }
}

describe('Module', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  it('names parameters with dotted paths, own parameters before children as torch does', () => {
    const m = new Encoder();
    expect([...m.namedParameters().keys()]).toEqual([
      'layer_0.norm_weight',
      'layer_0.q_proj.weight',
      'layer_0.q_proj.bias',
      'layer_1.norm_weight',
      'layer_1.q_proj.weight',
      'layer_1.q_proj.bias',
    ]);
    expect(m.parameterCount()).toBe(2 * (6 + 2 + 3));
    expect(m.parameterCount(true)).toBe(2 * (6 + 2));
    expect(m.trainableVariables()).toHaveLength(4);
    expect(m.namedParameters().get('layer_0.q_proj.weight')?.decay).toBe(true);
    expect(m.namedParameters().get('layer_0.q_proj.bias')?.decay).toBe(false);
    expect(m.summary()).toMatch(/layer_1\.q_proj\.bias\s+\[2\]\s+2\ntotal: 22 parameters \(16 trainable\)/);
    m.dispose();
  });

  it('saves to safetensors and loads into a fresh module', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tessera-module-'));
    const a = new Encoder(2);
    await a.save(path.join(dir, 'w.safetensors'), { model: 'test' });
    const b = new Encoder(0);
    expect(await b.load(path.join(dir, 'w.safetensors'))).toEqual({ missing: [], unexpected: [] });
    expect([...(b.namedParameters().get('layer_1.q_proj.weight')?.variable.dataSync() ?? [])]).toEqual([2, 2, 2, 2, 2, 2]);
    a.dispose();
    b.dispose();
  });

  it('refuses mismatched weights, naming what is missing, unexpected or mis-shaped', async () => {
    const m = new Encoder();
    const state = await m.stateDict();
    state.delete('layer_0.q_proj.bias');
    state.set('extra.weight', { dtype: 'F32', shape: [1], data: new Float32Array(1) });
    state.set('layer_1.q_proj.weight', { dtype: 'F32', shape: [3, 2], data: new Float32Array(6) });
    try {
      m.loadStateDict(state);
      expect.unreachable();
    } catch (error) {
      expect(isTesseraError(error, 'E_STATE_DICT')).toBe(true);
      expect((error as Error).message).toMatch(/layer_1\.q_proj\.weight: expected \[2,3\], got \[3,2\]/);
      expect((error as Error).message).toMatch(/missing: layer_0\.q_proj\.bias/);
      expect((error as Error).message).toMatch(/unexpected: extra\.weight/);
    }
    m.dispose();
  });

  it('rejects duplicate and malformed names', () => {
    class Bad extends Module {
      constructor(name: string) {
        super();
        this.addParameter('w', tf.zeros([1]));
        this.addParameter(name, tf.zeros([1]));
      }
    }
    expect(() => new Bad('w')).toThrow(/already registered/);
    expect(() => new Bad('a.b')).toThrow(/must be/);
  });

  it('switches train/eval mode recursively', () => {
    const m = new Encoder();
    m.eval();
    expect([...m.namedModules().values()].every((x) => !x.training)).toBe(true);
    m.train();
    expect([...m.namedModules().values()].every((x) => x.training)).toBe(true);
    m.dispose();
  });
});
