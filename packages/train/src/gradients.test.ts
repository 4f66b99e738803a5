import { initBackend, type Module, SeededRandom, tf } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ArraySource, type Batch, mseLoss, TinyLinear, ToyClip } from '../test/helpers.js';
import { cachedFeatureGradients } from './cachedFeatures.js';
import { meanGradients, totalLoss, valueAndGrads } from './gradients.js';
import type { StepContext } from './types.js';

const params = (m: Module) => new Map([...m.namedParameters()].filter(([, p]) => p.trainable).map(([n, p]) => [n, p.variable]));
const ctx = (): StepContext => ({ training: true, step: 0, rng: new SeededRandom(3) });

async function expectSameGrads(a: Map<string, tf.Tensor>, b: Map<string, tf.Tensor>, tol: number) {
  expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
  for (const [k, g] of a) {
    const x = await g.data();
    const y = await (b.get(k) as tf.Tensor).data();
    const scale = Math.max(...Array.from(y, Math.abs));
    for (const [i, v] of x.entries()) expect(Math.abs(v - (y[i] as number))).toBeLessThanOrEqual(tol * scale);
  }
}

describe('gradient accumulation', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  it('averaging micro-batch gradients of a mean loss gives the large-batch gradient', async () => {
    const model = new TinyLinear();
    const source = new ArraySource(24, 12);
    const big = (await source.next()) as Batch;
    const micro = [0, 4, 8].map((i) => ({ x: big.x.slice(i, i + 4), y: big.y.slice(i, i + 4) }));
    const loss = mseLoss(model, 0);
    const whole = await meanGradients(loss)([big], ctx(), params(model));
    const before = tf.memory().numTensors;
    const accumulated = await meanGradients(loss)(micro, ctx(), params(model));
    expect(tf.memory().numTensors).toBe(before + accumulated.grads.size);
    await expectSameGrads(accumulated.grads, whole.grads, 1e-6);
    // float32 sums in another order: equal to ~1e-7 relative
    expect(Math.abs(accumulated.loss - whole.loss) / Math.abs(whole.loss)).toBeLessThan(1e-6);
    expect(Object.keys(accumulated.parts)).toEqual(['first', 'second']);
    expect(Math.abs(accumulated.parts.first! + accumulated.parts.second! - accumulated.loss) / Math.abs(accumulated.loss)).toBeLessThan(
      1e-6,
    );
    tf.dispose([...whole.grads.values(), ...accumulated.grads.values()]);
    model.dispose();
  });

  it('cached-feature accumulation gives the large-batch gradient of a contrastive loss, logit scale included', async () => {
    const model = new ToyClip();
    const rng = new SeededRandom(5);
    const n = 6;
    const batch = {
      images: Array.from({ length: n }, () => Array.from(rng.array(4, (r) => r.normal(0, 1)))),
      texts: Array.from({ length: n }, () => Array.from(rng.array(5, (r) => r.normal(0, 1)))),
    };
    const micro = [0, 2, 4].map((i) => ({ images: batch.images.slice(i, i + 2), texts: batch.texts.slice(i, i + 2) }));
    const p = params(model);
    const reference = valueAndGrads(() => model.loss(model.features(batch)).loss, p);
    const gradFn = cachedFeatureGradients<typeof batch>({ features: (b) => model.features(b), loss: (f) => model.loss(f) });
    const before = tf.memory().numTensors;
    const cached = await gradFn(micro, ctx(), p);
    expect(tf.memory().numTensors).toBe(before + cached.grads.size);
    expect(cached.loss).toBeCloseTo((await reference.value.data())[0] as number, 5);
    await expectSameGrads(cached.grads, reference.grads, 1e-5);
    // Plain averaging of per-micro-batch contrastive losses is a different (smaller-batch) objective.
    const naive = await meanGradients<typeof batch>((b) => model.loss(model.features(b)))(micro, ctx(), p);
    const first = async (t: tf.Tensor | undefined) => (await (t as tf.Tensor).data())[0] as number;
    const diff = Math.abs((await first(naive.grads.get('image_proj'))) - (await first(reference.grads.get('image_proj'))));
    expect(diff).toBeGreaterThan(1e-3);
    tf.dispose([reference.value, ...reference.grads.values(), ...cached.grads.values(), ...naive.grads.values()]);
    model.dispose();
  });

  it('weights loss parts and rejects weights for parts that do not exist', () => {
    tf.tidy(() => {
      const parts = { itc: tf.scalar(2), mlm: tf.scalar(3) };
      expect(totalLoss({ parts }, { mlm: 0.5 }).dataSync()[0]).toBe(2 + 1.5);
      expect(totalLoss({ parts }).dataSync()[0]).toBe(5);
      expect(totalLoss({ loss: tf.scalar(7), parts }, { mlm: 0.5 }).dataSync()[0]).toBe(7);
      expect(() => totalLoss({ parts }, { itm: 1 })).toThrow(/lossWeights names unknown loss parts: itm/);
      expect(() => totalLoss({})).toThrow(/neither `loss` nor `parts`/);
    });
  });
});
