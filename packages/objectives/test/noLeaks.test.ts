/** Every pure objective frees its intermediates: only the returned tensors stay alive. */
import { initBackend, SeededRandom, tf } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  captioningLoss,
  clipLoss,
  embeddingDistillationLoss,
  itcLoss,
  itmLoss,
  logitDistillationLoss,
  maeLoss,
  mlmLoss,
  randomPatchMasking,
  siglipLoss,
} from '../src/index.js';
import { Reference } from './reference.js';

let ref: Reference;
beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  ref = await Reference.load();
});

/** Runs `f` (and its gradient through `inputs`), disposes what it returns, and checks the count. */
function expectNoLeak(f: (...xs: tf.Tensor[]) => tf.TensorContainer, lossOf: (out: never) => tf.Scalar, inputs: tf.Tensor[]): void {
  const before = tf.memory().numTensors;
  tf.dispose(f(...inputs));
  expect(tf.memory().numTensors).toBe(before);
  tf.dispose(tf.grads((...xs: tf.Tensor[]) => lossOf(f(...xs) as never))(inputs));
  expect(tf.memory().numTensors).toBe(before);
}

describe('no tensor leaks', () => {
  it('in every loss, forward and backward', () => {
    const t = (n: string) => ref.tensor(n);
    const byLoss = (o: { loss: tf.Scalar }) => o.loss;
    const clipPos = t('clip_multi.in.positives');
    expectNoLeak(
      (i, x, s) => clipLoss({ imageEmbeds: i as tf.Tensor, textEmbeds: x as tf.Tensor, logitScale: s as tf.Tensor, positives: clipPos }),
      byLoss,
      [t('clip_multi.in.image'), t('clip_multi.in.text'), t('clip_multi.in.logit_scale')],
    );
    const sigPos = t('siglip.in.positives');
    expectNoLeak(
      (i, x, s, b) =>
        siglipLoss({
          imageEmbeds: i as tf.Tensor,
          textEmbeds: x as tf.Tensor,
          logitScale: s as tf.Tensor,
          logitBias: b as tf.Tensor,
          positives: sigPos,
        }),
      byLoss,
      [t('siglip.in.image'), t('siglip.in.text'), t('siglip.in.logit_scale'), t('siglip.in.logit_bias')],
    );
    const mlmLabels = t('mlm.in.labels');
    expectNoLeak((l) => mlmLoss({ logits: l as tf.Tensor, labels: mlmLabels }), byLoss, [t('mlm.in.logits')]);
    const momentumLogits = t('mlm_distill.in.momentum_logits');
    expectNoLeak((l) => mlmLoss({ logits: l as tf.Tensor, labels: mlmLabels, momentumLogits, alpha: 0.4 }), byLoss, [
      t('mlm_distill.in.logits'),
    ]);
    const capTargets = t('caption.in.targets');
    expectNoLeak((l) => captioningLoss({ logits: l as tf.Tensor, targets: capTargets, padTokenId: 0, labelSmoothing: 0.1 }), byLoss, [
      t('caption.in.logits'),
    ]);
    const itmLabels = t('itm.in.labels');
    expectNoLeak((l) => itmLoss(l as tf.Tensor, itmLabels), byLoss, [t('itm.in.logits')]);
    const [images, mask] = [t('mae.in.images') as tf.Tensor4D, t('mae.in.mask')];
    expectNoLeak((p) => maeLoss({ pred: p as tf.Tensor, images, mask, patchSize: 4 }), byLoss, [t('mae.in.pred')]);
    const teacher = t('distill.in.teacher');
    expectNoLeak(
      (s) => logitDistillationLoss(s as tf.Tensor, teacher, 2),
      (o: tf.Scalar) => o,
      [t('distill.in.student')],
    );
    const teacherEmbed = t('distill.in.teacher_embed');
    expectNoLeak(
      (s) => embeddingDistillationLoss(s as tf.Tensor, teacherEmbed, 'cosine'),
      (o: tf.Scalar) => o,
      [t('distill.in.student_embed')],
    );
    const fixed = {
      imageFeatMomentum: t('albef.in.image_m'),
      textFeatMomentum: t('albef.in.text_m'),
      imageQueue: t('albef.in.image_queue'),
      textQueue: t('albef.in.text_queue'),
      ids: t('albef.in.ids'),
      queueIds: t('albef.in.queue_ids'),
      alpha: 0.4,
    };
    expectNoLeak(
      (i, x, temp) => itcLoss({ ...fixed, imageFeat: i as tf.Tensor, textFeat: x as tf.Tensor, temp: temp as tf.Tensor }),
      byLoss,
      [t('albef.in.image'), t('albef.in.text'), t('albef.in.temp')],
    );
  });

  it('in MAE masking (returns exactly its three tensors)', () => {
    const before = tf.memory().numTensors;
    const out = randomPatchMasking(2, 16, 0.75, new SeededRandom(1));
    expect(tf.memory().numTensors).toBe(before + 3);
    tf.dispose(out);
  });
});
