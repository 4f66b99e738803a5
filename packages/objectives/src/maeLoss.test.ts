import { initBackend, SeededRandom, tf } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose, expectCode, Reference } from '../test/reference.js';
import { MaskedImageModeling, maeLoss } from './maeLoss.js';
import { gatherPatches, randomPatchMasking } from './maeMasking.js';

let ref: Reference;
beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  ref = await Reference.load();
});

describe('maeLoss against PyTorch', () => {
  for (const [name, normPixLoss] of [
    ['mae', true],
    ['mae_raw', false],
  ] as const) {
    it(`matches loss and gradient (${normPixLoss ? 'normalised pixels' : 'raw pixels'}, masked patches only)`, () => {
      const images = ref.tensor(`${name}.in.images`) as tf.Tensor4D;
      const pred = ref.tensor(`${name}.in.pred`);
      const mask = ref.tensor(`${name}.in.mask`);
      const f = (p: tf.Tensor) => maeLoss({ pred: p, images, mask, patchSize: 4, normPixLoss }).loss;
      const loss = f(pred);
      expectClose(loss, ref, `${name}.loss`);
      const grad = tf.grad(f)(pred);
      expectClose(grad, ref, `${name}.grad.pred`);
      tf.dispose([images, pred, mask, loss, grad]);
    });
  }
});

describe('MAE masking', () => {
  it('keeps floor(N * (1 - ratio)) distinct patches per image, consistent with mask and idsRestore', () => {
    const rng = new SeededRandom(11);
    const { idsKeep, idsRestore, mask } = randomPatchMasking(3, 16, 0.75, rng);
    expect(idsKeep.shape).toEqual([3, 4]);
    const keep = idsKeep.arraySync();
    const restore = idsRestore.arraySync();
    const m = mask.arraySync();
    for (let b = 0; b < 3; b++) {
      const kept = keep[b] as number[];
      expect(new Set(kept).size).toBe(4);
      for (let p = 0; p < 16; p++) {
        expect((m[b] as number[])[p]).toBe(kept.includes(p) ? 0 : 1);
        // restore[p] is the patch's rank in the shuffle: the kept ones come first.
        if (kept.includes(p)) expect(kept[(restore[b] as number[])[p] as number]).toBe(p);
      }
    }
    tf.dispose([idsKeep, idsRestore, mask]);
  });

  it('masks each patch with frequency close to the ratio over many draws', () => {
    const rng = new SeededRandom(12);
    const { mask } = randomPatchMasking(2000, 16, 0.75, rng);
    const perPatch = tf.tidy(() => tf.mean(mask, 0).arraySync() as number[]);
    for (const f of perPatch) expect(Math.abs(f - 0.75)).toBeLessThan(0.04);
    mask.dispose();
  });

  it('gatherPatches selects the kept tokens and passes gradients back to them only', () => {
    const x = tf.tensor3d(
      Array.from({ length: 2 * 4 * 2 }, (_, i) => i),
      [2, 4, 2],
    );
    const ids = tf.tensor2d(
      [
        [3, 1],
        [0, 2],
      ],
      [2, 2],
      'int32',
    );
    expect(gatherPatches(x, ids).arraySync()).toEqual([
      [
        [6, 7],
        [2, 3],
      ],
      [
        [8, 9],
        [12, 13],
      ],
    ]);
    const g = tf.grad((t: tf.Tensor) => tf.sum(gatherPatches(t as tf.Tensor3D, ids)))(x);
    expect(Array.from(g.dataSync())).toEqual([0, 0, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0]);
    tf.dispose([x, ids, g]);
  });

  it('MaskedImageModeling validates its config and the shapes it gets', () => {
    expectCode(() => new MaskedImageModeling({ patchSize: 4, maskRatio: 1 }), 'E_CONFIG');
    const mim = new MaskedImageModeling({ patchSize: 4 });
    const images = tf.zeros([1, 3, 8, 8]) as tf.Tensor4D;
    const { mask, idsKeep, idsRestore } = mim.mask(1, 4, new SeededRandom(1));
    expect(idsKeep.shape).toEqual([1, 1]);
    expectCode(() => mim.loss(tf.zeros([1, 4, 47]), images, mask), 'E_INPUT');
    tf.dispose([images, mask, idsKeep, idsRestore]);
  });
});
