import { initBackend, SeededRandom, tf } from '@tessera/core';
import { Linear } from '@tessera/transformer';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose, expectCode, Reference } from '../test/reference.js';
import { FeatureQueue } from './featureQueue.js';
import { ItcLoss, itcLoss } from './itcLoss.js';
import { MomentumEncoder } from './momentum.js';

let ref: Reference;
beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  ref = await Reference.load();
});

describe('itcLoss against PyTorch', () => {
  it('matches loss, both directions and gradients (queue of 5, repeated ids, alpha 0.4)', () => {
    const r = (k: string) => ref.tensor(`albef.in.${k}`);
    const fixed = {
      imageFeatMomentum: r('image_m'),
      textFeatMomentum: r('text_m'),
      imageQueue: r('image_queue'),
      textQueue: r('text_queue'),
      ids: r('ids'),
      queueIds: r('queue_ids'),
      alpha: 0.4,
    };
    const f = (image: tf.Tensor, text: tf.Tensor, temp: tf.Tensor) => itcLoss({ ...fixed, imageFeat: image, textFeat: text, temp });
    const inputs = [r('image'), r('text'), r('temp')] as const;
    const out = f(...inputs);
    expectClose(out.loss, ref, 'albef.loss');
    expectClose(out.lossImageToText, ref, 'albef.loss_i2t');
    expectClose(out.lossTextToImage, ref, 'albef.loss_t2i');
    const grads = tf.grads((i: tf.Tensor, t: tf.Tensor, temp: tf.Tensor) => f(i, t, temp).loss)([...inputs]);
    expectClose(grads[0] as tf.Tensor, ref, 'albef.grad.image');
    expectClose(grads[1] as tf.Tensor, ref, 'albef.grad.text');
    expectClose(grads[2] as tf.Tensor, ref, 'albef.grad.temp');
    // Momentum features and queues are targets only.
    const gm = tf.grad(
      (m: tf.Tensor) => itcLoss({ ...fixed, imageFeatMomentum: m, imageFeat: inputs[0], textFeat: inputs[1], temp: inputs[2] }).loss,
    )(fixed.imageFeatMomentum);
    expect(tf.max(tf.abs(gm)).dataSync()[0]).toBe(0);
  });
});

describe('MomentumEncoder', () => {
  it('starts equal to the online weights and moves exactly (1 - m) toward them', () => {
    const online = new Linear({ inFeatures: 4, outFeatures: 3, rng: new SeededRandom(1) });
    const ema = new MomentumEncoder(online, () => new Linear({ inFeatures: 4, outFeatures: 3, rng: new SeededRandom(2) }), 0.9);
    expect(ema.target.weight.dataSync()).toEqual(online.weight.dataSync());
    expect(ema.target.weight.trainable).toBe(false);
    // Move the online weights, then one update.
    online.weight.assign(tf.add(online.weight, 1));
    const before = Float32Array.from(ema.target.weight.dataSync());
    const onlineNow = Float32Array.from(online.weight.dataSync());
    ema.update();
    const after = ema.target.weight.dataSync();
    for (let i = 0; i < after.length; i++) {
      const step = (after[i] as number) - (before[i] as number);
      expect(step).toBeCloseTo((1 - 0.9) * ((onlineNow[i] as number) - (before[i] as number)), 6);
    }
    // The online module is untouched by the update.
    expect(online.weight.dataSync()).toEqual(onlineNow);
    ema.dispose();
    online.dispose();
  });

  it('refuses a copy with a different architecture', () => {
    const online = new Linear({ inFeatures: 4, outFeatures: 3, rng: new SeededRandom(1) });
    expectCode(() => new MomentumEncoder(online, () => new Linear({ inFeatures: 5, outFeatures: 3, rng: new SeededRandom(1) })), 'E_INPUT');
    expectCode(
      () => new MomentumEncoder(online, () => new Linear({ inFeatures: 4, outFeatures: 3, bias: false, rng: new SeededRandom(1) })),
      'E_INPUT',
    );
  });
});

describe('FeatureQueue', () => {
  it('overwrites the oldest rows first and wraps around', () => {
    const q = new FeatureQueue(4, 2, new SeededRandom(3));
    q.enqueue(tf.tensor2d([1, 1, 2, 2, 3, 3], [3, 2]), [1, 2, 3]);
    expect(Array.from(q.ids().dataSync())).toEqual([1, 2, 3, -1]);
    q.enqueue(tf.tensor2d([4, 4, 5, 5], [2, 2]), [4, 5]);
    expect(q.value.arraySync()).toEqual([
      [5, 5],
      [2, 2],
      [3, 3],
      [4, 4],
    ]);
    expect(Array.from(q.ids().dataSync())).toEqual([5, 2, 3, 4]);
    expectCode(() => q.enqueue(tf.zeros([1, 3])), 'E_INPUT');
    q.dispose();
  });
});

describe('ItcLoss', () => {
  it('runs a step with the queues, then enqueues, without leaking tensors', () => {
    const itc = new ItcLoss({ embedDim: 8, queueSize: 6, seed: 1 });
    expect([...itc.namedParameters().keys()]).toEqual(['temp']);
    itc.temp.assign(tf.scalar(0.9));
    itc.clampTemp();
    expect(itc.temp.dataSync()[0]).toBeCloseTo(0.5, 6);
    itc.temp.assign(tf.scalar(0.07));
    const rng = new SeededRandom(5);
    const feats = () =>
      tf.tensor2d(
        rng.array(3 * 8, (r) => r.normal()),
        [3, 8],
      );
    const [img, txt, imgM, txtM] = [feats(), feats(), feats(), feats()];
    const before = tf.memory().numTensors;
    const out = itc.forward({ imageFeat: img, textFeat: txt, imageFeatMomentum: imgM, textFeatMomentum: txtM, ids: [0, 1, 2] });
    expect(Number.isFinite(out.loss.dataSync()[0])).toBe(true);
    tf.dispose(out);
    // Other captions of the same three images go into the queue.
    const [imgM2, txtM2] = [feats(), feats()];
    const afterInputs = tf.memory().numTensors;
    itc.enqueue(imgM2, txtM2, [0, 1, 2]);
    expect(tf.memory().numTensors).toBe(afterInputs);
    expect(afterInputs).toBe(before + 2);
    // With ids, the queued rows of the same images are positives, not negatives: the loss changes.
    const again = itc.forward({ imageFeat: img, textFeat: txt, imageFeatMomentum: imgM, textFeatMomentum: txtM, ids: [0, 1, 2] });
    const without = itc.forward({ imageFeat: img, textFeat: txt, imageFeatMomentum: imgM, textFeatMomentum: txtM });
    expect(again.loss.dataSync()[0]).not.toBeCloseTo(without.loss.dataSync()[0] as number, 3);
    expectCode(
      () => itc.forward({ imageFeat: img, textFeat: txt, imageFeatMomentum: imgM, textFeatMomentum: txtM, ids: [-1, 0, 1] }),
      'E_INPUT',
    );
    expectCode(() => new ItcLoss({ embedDim: 8, queueSize: 6, tempMin: 1, tempMax: 0.5 }), 'E_CONFIG');
    itc.dispose();
  });
});

describe('ALBEF ITC training loop', () => {
  it('momentum encoders + queues + soft targets: the loss falls and the tensor count stays flat', () => {
    const rng = new SeededRandom(77);
    const make = (seed: number) => new Linear({ inFeatures: 8, outFeatures: 8, rng: new SeededRandom(seed) });
    const imageEncoder = make(1);
    const textEncoder = make(2);
    const imageMomentum = new MomentumEncoder(imageEncoder, () => make(3), 0.9);
    const textMomentum = new MomentumEncoder(textEncoder, () => make(4), 0.9);
    const itc = new ItcLoss({ embedDim: 8, queueSize: 16, alpha: 0.4, seed: 5 });
    // Paired data: 16 concepts; the "text" view is a fixed mixing of the "image" view plus noise.
    const concepts = tf.tensor2d(
      rng.array(16 * 8, (r) => r.normal()),
      [16, 8],
    );
    const mixing = tf.tensor2d(
      rng.array(64, (r) => r.normal() / Math.sqrt(8)),
      [8, 8],
    );
    const optimizer = tf.train.adam(0.05);
    const vars = [...imageEncoder.trainableVariables(), ...textEncoder.trainableVariables(), ...itc.trainableVariables()];
    const losses: number[] = [];
    const counts: number[] = [];
    for (let step = 0; step < 40; step++) {
      const idx = rng.permutation(16).slice(0, 4);
      tf.tidy(() => {
        const picked = tf.gather(concepts, tf.tensor1d(idx, 'int32'));
        const images = tf.add(picked, tf.randomNormal([4, 8], 0, 0.05, 'float32', step));
        const texts = tf.add(tf.matMul(picked, mixing), tf.randomNormal([4, 8], 0, 0.05, 'float32', 1000 + step));
        imageMomentum.update();
        textMomentum.update();
        const imageM = l2(imageMomentum.target.forward(images));
        const textM = l2(textMomentum.target.forward(texts));
        const cost = optimizer.minimize(
          () =>
            itc.forward({
              imageFeat: imageEncoder.forward(images),
              textFeat: textEncoder.forward(texts),
              imageFeatMomentum: imageM,
              textFeatMomentum: textM,
              ids: idx,
            }).loss,
          true,
          vars,
        ) as tf.Scalar;
        losses.push(cost.dataSync()[0] as number);
        itc.enqueue(imageM, textM, idx);
      });
      counts.push(tf.memory().numTensors);
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(losses.slice(-5))).toBeLessThan(mean(losses.slice(0, 5)) * 0.7);
    expect(new Set(counts.slice(2)).size).toBe(1);
    // The momentum copies followed the online encoders but lag behind them.
    const lag = tf.tidy(() => tf.max(tf.abs(tf.sub(imageMomentum.target.weight, imageEncoder.weight))).dataSync()[0] as number);
    expect(lag).toBeGreaterThan(0);
    optimizer.dispose();
    tf.dispose([concepts, mixing]);
  });
});

function l2(x: tf.Tensor): tf.Tensor {
  return tf.div(x, tf.norm(x, 'euclidean', -1, true));
}
