import { initBackend, isTesseraError, SeededRandom, tf } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkAgainstTorch, expectClose, loadFixture } from '../../test/fixtures.js';
import { gelu, geluTanh, quickGelu } from './activations.js';
import { ClassToken } from './classToken.js';
import { Dropout } from './dropout.js';
import { LayerNorm } from './layerNorm.js';
import { LearnedPositionEmbedding } from './learnedPositionEmbedding.js';
import { Linear } from './linear.js';
import { MLP } from './mlp.js';
import { SinusoidalPositionEmbedding } from './sinusoidalPositionEmbedding.js';
import { TokenEmbedding } from './tokenEmbedding.js';

const rng = () => new SeededRandom(7);

describe('layers against PyTorch', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  it('Linear: any leading dims, weight [out, in], outputs and gradients', async () => {
    const fx = await loadFixture('linear');
    const layer = new Linear({ ...fx.config, rng: rng() } as never);
    expect([...layer.namedParameters().keys()]).toEqual(['weight', 'bias']);
    expect(layer.weight.shape).toEqual([3, 5]);
    layer.loadStateDict(fx.params());
    checkAgainstTorch(fx, layer, ['x'], ({ x }) => ({ y: layer.forward(x as tf.Tensor) }));
    layer.dispose();
  });

  it('LayerNorm', async () => {
    const fx = await loadFixture('layer_norm');
    const layer = new LayerNorm(fx.config as never);
    layer.loadStateDict(fx.params());
    checkAgainstTorch(fx, layer, ['x'], ({ x }) => ({ y: layer.forward(x as tf.Tensor) }));
    layer.dispose();
  });

  it('GELU exact, GELU tanh, QuickGELU, ReLU and their derivatives', async () => {
    const fx = await loadFixture('activations');
    const x = fx.tensor('input.x');
    const fns = { gelu, gelu_tanh: geluTanh, quick_gelu: quickGelu, relu: (t: tf.Tensor) => tf.relu(t) };
    for (const [name, fn] of Object.entries(fns)) {
      tf.tidy(() => {
        expectClose(fn(x), fx.raw(`output.${name}`), name);
      });
    }
    // d/dx sum_k sum(f_k(x) * R_k) = sum_k f_k'(x) R_k
    const g = tf.grad((t: tf.Tensor) => tf.addN(Object.entries(fns).map(([name, fn]) => tf.sum(tf.mul(fn(t), fx.tensor(`cot.${name}`))))))(
      x,
    );
    expectClose(g, fx.raw('grad.input.x'), 'activation gradients');
    tf.dispose([x, g]);
  });

  for (const act of ['gelu', 'quick_gelu']) {
    it(`MLP (${act}): fc1 -> act -> fc2`, async () => {
      const fx = await loadFixture(`mlp_${act}`);
      const mlp = new MLP({ ...fx.config, rng: rng() } as never);
      expect([...mlp.namedParameters().keys()]).toEqual(['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);
      mlp.loadStateDict(fx.params());
      checkAgainstTorch(fx, mlp, ['x'], ({ x }) => ({ y: mlp.forward(x as tf.Tensor) }));
      mlp.dispose();
    });
  }

  it('TokenEmbedding: lookup and scatter-added gradient for repeated ids', async () => {
    const fx = await loadFixture('token_embedding');
    const emb = new TokenEmbedding({ ...fx.config, rng: rng() } as never);
    emb.loadStateDict(fx.params());
    checkAgainstTorch(fx, emb, ['ids'], ({ ids }) => ({ y: emb.forward(ids as tf.Tensor) }));
    const bad = tf.tensor([[3, 10]], [1, 2], 'int32');
    expect(() => emb.forward(bad)).toThrow(/outside \[0, 10\)/);
    bad.dispose();
    emb.dispose();
  });

  it('LearnedPositionEmbedding with an offset (as after a KV cache)', async () => {
    const fx = await loadFixture('position_embedding');
    const pos = new LearnedPositionEmbedding({ maxPositions: fx.config.maxPositions, dim: fx.config.dim, rng: rng() });
    pos.loadStateDict(fx.params());
    checkAgainstTorch(fx, pos, ['x'], ({ x }) => ({ y: pos.forward(x as tf.Tensor, fx.config.offset) }));
    const x = tf.zeros([1, 7, 4]);
    let error: unknown;
    try {
      pos.forward(x, 2);
    } catch (e) {
      error = e;
    }
    expect(isTesseraError(error, 'E_SHAPE')).toBe(true);
    x.dispose();
    pos.dispose();
  });

  it('SinusoidalPositionEmbedding matches the PyTorch tutorial table and has no parameters', async () => {
    const fx = await loadFixture('sinusoidal');
    const pos = new SinusoidalPositionEmbedding(fx.config as never);
    expect(pos.parameterCount()).toBe(0);
    tf.tidy(() => {
      const zeros = tf.zeros([1, 16, 8]);
      expectClose(tf.squeeze(pos.forward(zeros), [0]), fx.raw('table'), 'table');
      expectClose(tf.squeeze(pos.forward(tf.zeros([1, 3, 8]), 13), [0]), tf.slice(fx.tensor('table'), [13, 0], [3, 8]), 'offset');
    });
    pos.dispose();
  });
});

describe('layers: behaviour', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  it('Linear inits: torch default bound 1/sqrt(in); xavier bound sqrt(6/(in+out)) with zero bias', () => {
    const a = new Linear({ inFeatures: 16, outFeatures: 4, rng: rng() });
    const w = a.weight.dataSync();
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(0.25);
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.2);
    expect(Math.max(...(a.bias as tf.Variable).dataSync().map(Math.abs))).toBeLessThanOrEqual(0.25);
    const b = new Linear({ inFeatures: 16, outFeatures: 8, init: 'xavier_uniform', bias: true, rng: rng() });
    const bound = Math.sqrt(6 / 24);
    expect(Math.max(...b.weight.dataSync().map(Math.abs))).toBeLessThanOrEqual(bound);
    expect([...(b.bias as tf.Variable).dataSync()]).toEqual(new Array(8).fill(0));
    const c = new Linear({ inFeatures: 4, outFeatures: 2, bias: false, rng: rng() });
    expect([...c.namedParameters().keys()]).toEqual(['weight']);
    // Same seed, same weights.
    const d = new Linear({ inFeatures: 16, outFeatures: 4, rng: rng() });
    expect([...d.weight.dataSync()]).toEqual([...w]);
    for (const m of [a, b, c, d]) m.dispose();
  });

  it('Linear rejects a wrong input width and a bad config with typed errors', () => {
    const layer = new Linear({ inFeatures: 3, outFeatures: 2, rng: rng() });
    const x = tf.zeros([2, 4]);
    expect(() => layer.forward(x)).toThrow(/last dimension to be 3/);
    expect(() => new Linear({ inFeatures: 0, outFeatures: 2, rng: rng() })).toThrow(/inFeatures/);
    expect(() => new Linear({ inFeatures: 2, outFeatures: 2 } as never)).toThrow(/rng/);
    x.dispose();
    layer.dispose();
  });

  it('Dropout: zeroes or scales by 1/(1-p), reproducible by seed, identity in eval mode', () => {
    const x = tf.ones([4000]);
    const drop = new Dropout({ p: 0.25, rng: new SeededRandom(1) });
    const y = drop.forward(x);
    const values = y.dataSync();
    const zeros = values.filter((v) => v === 0).length;
    expect(values.every((v) => v === 0 || Math.abs(v - 4 / 3) < 1e-6)).toBe(true);
    expect(zeros / 4000).toBeGreaterThan(0.22);
    expect(zeros / 4000).toBeLessThan(0.28);
    const again = new Dropout({ p: 0.25, rng: new SeededRandom(1) }).forward(x);
    expect([...again.dataSync()]).toEqual([...values]);
    drop.eval();
    expect(drop.forward(x)).toBe(x);
    tf.dispose([x, y, again]);
  });

  it('ClassToken prepends class_embedding to every sequence', () => {
    const cls = new ClassToken({ dim: 3, rng: rng() });
    expect([...cls.namedParameters().keys()]).toEqual(['class_embedding']);
    cls.weight.assign(tf.tensor([1, 2, 3]));
    const y = tf.tidy(() => cls.forward(tf.fill([2, 2, 3], 9)));
    expect(y.shape).toEqual([2, 3, 3]);
    expect([...y.dataSync()]).toEqual([1, 2, 3, 9, 9, 9, 9, 9, 9, 1, 2, 3, 9, 9, 9, 9, 9, 9]);
    y.dispose();
    cls.dispose();
  });
});
