import { initBackend, SeededRandom, tf } from '@tessera/core';
import { Linear } from '@tessera/transformer';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose, expectCode, Reference } from '../test/reference.js';
import { AlbefContrastive, albefItcLoss } from './albefItc.js';
import { FeatureQueue } from './featureQueue.js';
import { MomentumEncoder } from './momentum.js';

let ref: Reference;
beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  ref = await Reference.load();
});

describe('albefItcLoss against PyTorch', () => {
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
    const f = (image: tf.Tensor, text: tf.Tensor, temp: tf.Tensor) => albefItcLoss({ ...fixed, imageFeat: image, textFeat: text, temp });
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
      (m: tf.Tensor) => albefItcLoss({ ...fixed, imageFeatMomentum: m, imageFeat: inputs[0], textFeat: inputs[1], temp: inputs[2] }).loss,
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

describe('AlbefContrastive', () => {
  it('runs a step with the queues, then enqueues, without leaking tensors', () => {
    const itc = new AlbefContrastive({ embedDim: 8, queueSize: 6, seed: 1 });
    expect([...itc.namedParameters().keys()]).toEqual(['temp']);
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
    expectCode(() => new AlbefContrastive({ embedDim: 8, queueSize: 6, tempMin: 1, tempMax: 0.5 }), 'E_CONFIG');
    itc.dispose();
  });
});
