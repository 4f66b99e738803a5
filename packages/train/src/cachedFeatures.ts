import { SeededRandom, tf } from '@tessera/core';
import { accumulateInto, combine, type KeptOutput, keepOutput, readOutput, totalLoss, valueAndGrads } from './gradients.js';
import type { GradientFn, LossOutput, StepContext } from './types.js';

/** How a model splits into per-example features and a loss over the whole batch's features. */
export interface CachedFeatureOptions<B> {
  /** Per-example features of one micro-batch, each with the batch on axis 0 (e.g. image and text embeddings). */
  features: (batch: B, ctx: StepContext) => Record<string, tf.Tensor>;
  /** The loss over the features of all micro-batches, concatenated on axis 0 (e.g. CLIP InfoNCE). */
  loss: (features: Record<string, tf.Tensor>, ctx: StepContext) => LossOutput;
  lossWeights?: Record<string, number>;
}

/**
 * Gradient accumulation for losses that couple the examples of a batch (contrastive losses),
 * as open_clip's `--accum-freq`: first compute every micro-batch's features without a tape
 * and cache them; then, for each micro-batch j, recompute its features under the tape, put
 * them in place of the cached ones, evaluate the loss over the full batch and add the
 * gradient. The sum is the large-batch gradient, with the memory of one micro-batch's graph.
 *
 * Unlike open_clip, parameters the loss uses directly (a logit scale) are counted once, not
 * once per micro-batch: their extra (k-1) copies of the gradient are subtracted.
 * Each micro-batch sees the same random stream in both passes, so dropout/masking agree.
 */
export function cachedFeatureGradients<B>(options: CachedFeatureOptions<B>): GradientFn<B> {
  const weights = options.lossWeights ?? {};
  return async (microBatches, ctx, parameters) => {
    const rngStates = microBatches.map((_, i) => ctx.rng.fork(`micro${i}`).state());
    const lossRngState = ctx.rng.fork('loss').state();
    const microCtx = (i: number): StepContext => ({ ...ctx, rng: new SeededRandom(rngStates[i]) });
    const lossCtx = (): StepContext => ({ ...ctx, rng: new SeededRandom(lossRngState) });
    const cached = microBatches.map((batch, i) => tf.tidy(() => options.features(batch, microCtx(i))));
    const keys = Object.keys(cached[0] ?? {});
    const concatWith = (j: number, fresh: Record<string, tf.Tensor>) =>
      Object.fromEntries(
        keys.map((k) => [
          k,
          tf.concat(
            cached.map((c, i) => (i === j ? fresh[k] : c[k]) as tf.Tensor),
            0,
          ),
        ]),
      );

    const grads = new Map<string, tf.Tensor>();
    let first: KeptOutput | undefined;
    for (let j = 0; j < microBatches.length; j++) {
      const { value, grads: g } = valueAndGrads(() => {
        const out = options.loss(concatWith(j, options.features(microBatches[j] as B, microCtx(j))), lossCtx());
        if (j > 0) return totalLoss(out, weights);
        first = keepOutput(out, weights);
        return first.loss;
      }, parameters);
      accumulateInto(grads, g);
      if (j > 0) value.dispose();
    }
    if (microBatches.length > 1) {
      // The loss's direct parameters got their full gradient in every pass: remove k-1 copies.
      const { value, grads: direct } = valueAndGrads(() => totalLoss(options.loss(concatWith(-1, {}), lossCtx()), weights), parameters);
      value.dispose();
      accumulateInto(grads, direct, -(microBatches.length - 1));
    }
    for (const c of cached) tf.dispose(Object.values(c));
    return combine(grads, [await readOutput(first as KeptOutput)]);
  };
}
