import { parseConfig, patchify, type SeededRandom, TesseraError, tf } from '@tessera/core';
import { z } from 'zod';
import { type PatchMasking, randomPatchMasking } from './maeMasking.js';
import { expectRank } from './tensorUtils.js';

/** Input of `maeLoss`: decoder predictions, the original images and the mask of hidden patches. */
export type MaeLossInput = {
  /** Decoder predictions [B, N, C*P*P], patches in core's `patchify` order. */
  pred: tf.Tensor;
  /** The original images [B, C, H, W]. */
  images: tf.Tensor4D;
  /** Side P of the square patches, in pixels. */
  patchSize: number;
  /** [B, N], 1 on masked patches (only those count). */
  mask: tf.Tensor;
  /** Normalise each target patch by its own mean and (unbiased) variance, as MAE's norm_pix_loss (default true). */
  normPixLoss?: boolean;
};

/** Result of `maeLoss`: the training loss over masked patches and, for monitoring, the visible ones. */
export type MaeLossOutput = {
  /** Mean squared error per patch, averaged over masked patches. */
  loss: tf.Scalar;
  /** The same error over the visible patches (not trained on; a reconstruction sanity check). */
  visibleLoss: tf.Scalar;
};

/** MAE's reconstruction loss (He et al. 2022, `forward_loss`). */
export function maeLoss(input: MaeLossInput): MaeLossOutput {
  expectRank(input.pred, 3, 'maeLoss pred');
  expectRank(input.mask, 2, 'maeLoss mask');
  return tf.tidy(() => {
    let target: tf.Tensor = patchify(input.images, input.patchSize);
    if (target.shape.join() !== input.pred.shape.join()) {
      throw new TesseraError(
        'E_INPUT',
        `maeLoss: pred [${input.pred.shape.join(', ')}] must match the image patches [${target.shape.join(', ')}]`,
      );
    }
    if (input.mask.shape.join() !== target.shape.slice(0, 2).join()) {
      throw new TesseraError(
        'E_INPUT',
        `maeLoss: mask must be [${target.shape.slice(0, 2).join(', ')}], got [${input.mask.shape.join(', ')}]`,
      );
    }
    if (input.normPixLoss ?? true) {
      const dim = target.shape[2] as number;
      const mean = tf.mean(target, -1, true);
      const centered = tf.sub(target, mean);
      const variance = tf.div(tf.sum(tf.square(centered), -1, true), Math.max(dim - 1, 1));
      target = tf.div(centered, tf.sqrt(tf.add(variance, 1e-6)));
    }
    const perPatch = tf.mean(tf.squaredDifference(input.pred, target), -1);
    const mask = tf.cast(input.mask, 'float32');
    const visible = tf.sub(1, mask);
    return {
      loss: tf.div(tf.sum(tf.mul(perPatch, mask)), tf.maximum(tf.sum(mask), 1)) as tf.Scalar,
      visibleLoss: tf.div(tf.sum(tf.mul(perPatch, visible)), tf.maximum(tf.sum(visible), 1)) as tf.Scalar,
    };
  });
}

/**
 * Zod schema (strict) of `MaskedImageModeling`'s config: `patchSize` (required), `maskRatio` in
 * [0, 1), default 0.75, and `normPixLoss`, default true, as MAE.
 */
export const maeLossConfigSchema = z
  .object({
    patchSize: z.number().int().positive(),
    /** Fraction of patches hidden from the encoder (MAE: 0.75). */
    maskRatio: z.number().min(0).lt(1).default(0.75),
    normPixLoss: z.boolean().default(true),
  })
  .strict();
/** `MaskedImageModeling`'s config as written (defaulted fields optional); a bad or unknown field throws E_CONFIG. */
export type MaeLossConfig = z.input<typeof maeLossConfigSchema>;

/** Masked image modelling in MAE's style: the config shared by masking and loss. */
export class MaskedImageModeling {
  readonly config: z.infer<typeof maeLossConfigSchema>;

  constructor(config: MaeLossConfig) {
    this.config = parseConfig(maeLossConfigSchema, config, 'MaskedImageModeling config');
  }

  /** MAE's random masking of `numPatches` patches per image at the configured ratio (see `randomPatchMasking`). */
  mask(batch: number, numPatches: number, rng: SeededRandom): PatchMasking {
    return randomPatchMasking(batch, numPatches, this.config.maskRatio, rng);
  }

  /**
   * `maeLoss` of decoder predictions [B, N, C*P*P] against `images` [B, C, H, W] over the patches
   * that `mask` [B, N] (e.g. `PatchMasking.mask`) hides, with the configured patch size and normPixLoss.
   */
  loss(pred: tf.Tensor, images: tf.Tensor4D, mask: tf.Tensor): MaeLossOutput {
    return maeLoss({ pred, images, mask, patchSize: this.config.patchSize, normPixLoss: this.config.normPixLoss });
  }
}
