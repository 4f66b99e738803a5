import { Module, parseConfig, SeededRandom, TesseraError, tf } from '@tessera/core';
import { z } from 'zod';
import { FeatureQueue } from './featureQueue.js';
import { expectRank, l2Normalize, matMulTransposed, stopGradient } from './tensorUtils.js';

/** Input of `itcLoss`, with the queues and temperature passed explicitly (`ItcLoss` fills them in). */
export type ItcLossInput = {
  /** Online image and text features [B, D] (normalised here). */
  imageFeat: tf.Tensor;
  /** Online text features [B, D] (normalised here). */
  textFeat: tf.Tensor;
  /** Momentum-encoder features [B, D], already normalised; no gradient flows into them. */
  imageFeatMomentum: tf.Tensor;
  /** Momentum text features [B, D], already normalised. */
  textFeatMomentum: tf.Tensor;
  /** Queued momentum features [K, D]. */
  imageQueue: tf.Tensor;
  /** Queued momentum text features [K, D]. */
  textQueue: tf.Tensor;
  /** Temperature (scalar, learnable), clamped to [tempMin, tempMax]. */
  temp: tf.Tensor;
  /** Weight of the momentum model's soft targets against the one-hot targets (ALBEF: 0.4). */
  alpha: number;
  /** Item ids [B] and queue ids [K]: pairs with equal ids are positives (same image). Default: only the diagonal. */
  ids?: tf.Tensor;
  /** Ids [K] of the queue rows (-1 matches nothing); give both `ids` and `queueIds`, or neither. */
  queueIds?: tf.Tensor;
  /** Lower clamp of `temp` (default 0.001). */
  tempMin?: number;
  /** Upper clamp of `temp` (default 0.5). */
  tempMax?: number;
};

/** Result of `itcLoss`: the loss averaged over both directions, each direction, and argmax accuracy. */
export type ItcLossOutput = {
  /** (lossImageToText + lossTextToImage) / 2. */
  loss: tf.Scalar;
  /** Cross-entropy of each image against the texts of the batch and the queue. */
  lossImageToText: tf.Scalar;
  /** Cross-entropy of each text against the images of the batch and the queue. */
  lossTextToImage: tf.Scalar;
  /** Fraction of images whose most similar text (batch + queue) is a positive. */
  accuracyImageToText: tf.Scalar;
  /** Fraction of texts whose most similar image (batch + queue) is a positive. */
  accuracyTextToImage: tf.Scalar;
};

/**
 * ALBEF's image-text contrastive loss with momentum distillation (Li et al. 2021): similarities of
 * online features against the momentum features of the batch plus the queue, divided by the
 * temperature; targets = alpha * softmax(momentum similarities) + (1 - alpha) * positives
 * (normalised per row); loss = mean cross-entropy, averaged over both directions.
 */
export function itcLoss(input: ItcLossInput): ItcLossOutput {
  for (const [name, t] of Object.entries({
    imageFeat: input.imageFeat,
    textFeat: input.textFeat,
    imageFeatMomentum: input.imageFeatMomentum,
    textFeatMomentum: input.textFeatMomentum,
    imageQueue: input.imageQueue,
    textQueue: input.textQueue,
  })) {
    expectRank(t, 2, `itcLoss ${name}`);
  }
  const [b, d] = input.imageFeat.shape as [number, number];
  const k = input.imageQueue.shape[0] as number;
  for (const t of [input.textFeat, input.imageFeatMomentum, input.textFeatMomentum]) {
    if (t.shape[0] !== b || t.shape[1] !== d) throw new TesseraError('E_INPUT', `itcLoss: batch features must all be [${b}, ${d}]`);
  }
  for (const t of [input.imageQueue, input.textQueue]) {
    if (t.shape[0] !== k || t.shape[1] !== d) throw new TesseraError('E_INPUT', `itcLoss: queues must both be [${k}, ${d}]`);
  }
  if (!(input.alpha >= 0 && input.alpha <= 1)) throw new TesseraError('E_INPUT', `itcLoss: alpha must be in [0, 1], got ${input.alpha}`);
  if ((input.ids === undefined) !== (input.queueIds === undefined)) {
    throw new TesseraError('E_INPUT', 'itcLoss: give both ids and queueIds, or neither');
  }
  return tf.tidy(() => {
    const alpha = input.alpha;
    const image = l2Normalize(input.imageFeat);
    const text = l2Normalize(input.textFeat);
    const temp = tf.clipByValue(tf.reshape(input.temp, []), input.tempMin ?? 0.001, input.tempMax ?? 0.5);
    const tempConst = stopGradient(temp);
    const imageAll = stopGradient(tf.concat([input.imageFeatMomentum, input.imageQueue], 0));
    const textAll = stopGradient(tf.concat([input.textFeatMomentum, input.textQueue], 0));
    const positives = positiveTargets(b, k, input.ids, input.queueIds);
    const softTargets = (momentumFeat: tf.Tensor, all: tf.Tensor) =>
      tf.add(tf.mul(tf.softmax(tf.div(matMulTransposed(stopGradient(momentumFeat), all), tempConst)), alpha), tf.mul(positives, 1 - alpha));
    const direction = (feat: tf.Tensor, all: tf.Tensor, targets: tf.Tensor) => {
      const logits = tf.div(matMulTransposed(feat, all), temp);
      const loss = tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(logits, -1), targets), -1))) as tf.Scalar;
      const hit = tf.mean(
        tf.sum(tf.mul(tf.oneHot(tf.argMax(logits, -1) as tf.Tensor1D, b + k), tf.cast(tf.greater(positives, 0), 'float32')), -1),
      );
      return { loss, accuracy: hit as tf.Scalar };
    };
    const i2t = direction(image, textAll, softTargets(input.imageFeatMomentum, textAll));
    const t2i = direction(text, imageAll, softTargets(input.textFeatMomentum, imageAll));
    return {
      loss: tf.div(tf.add(i2t.loss, t2i.loss), 2) as tf.Scalar,
      lossImageToText: i2t.loss,
      lossTextToImage: t2i.loss,
      accuracyImageToText: i2t.accuracy,
      accuracyTextToImage: t2i.accuracy,
    };
  });
}

/** [B, B + K] row-normalised: 1 where ids match (batch item i vs batch + queue), else the diagonal. */
function positiveTargets(b: number, k: number, ids?: tf.Tensor, queueIds?: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => {
    if (!ids || !queueIds) return tf.concat([tf.eye(b), tf.zeros([b, k])], 1) as tf.Tensor2D;
    if (ids.size !== b || queueIds.size !== k) {
      throw new TesseraError('E_INPUT', `itcLoss: ids must be [${b}] and queueIds [${k}], got [${ids.shape}] and [${queueIds.shape}]`);
    }
    const all = tf.concat([tf.reshape(tf.cast(ids, 'int32'), [-1]), tf.reshape(tf.cast(queueIds, 'int32'), [-1])]);
    const match = tf.cast(tf.equal(tf.reshape(tf.cast(ids, 'int32'), [b, 1]), tf.reshape(all, [1, b + k])), 'float32');
    return tf.div(match, tf.sum(match, 1, true)) as tf.Tensor2D;
  });
}

/**
 * Zod schema (strict) of `ItcLoss`'s config: `embedDim` and `queueSize` required; alpha 0.4,
 * initial temperature 0.07 clamped to [0.001, 0.5] and queue seed 0 by default, as ALBEF.
 */
export const itcLossConfigSchema = z
  .object({
    /** Width of the projected features. */
    embedDim: z.number().int().positive(),
    /** Queued features per modality (ALBEF: 65,536). */
    queueSize: z.number().int().positive(),
    /** Weight of the momentum soft targets (ALBEF: 0.4). */
    alpha: z.number().min(0).max(1).default(0.4),
    initTemp: z.number().positive().default(0.07),
    tempMin: z.number().positive().default(0.001),
    tempMax: z.number().positive().default(0.5),
    /** Seed of the queues' random initial contents. */
    seed: z.number().int().default(0),
  })
  .strict();
/** `ItcLoss`'s config as written (defaulted fields optional); a bad field, or tempMin > tempMax, throws E_CONFIG. */
export type ItcLossConfig = z.input<typeof itcLossConfigSchema>;

/** Input of `ItcLoss.forward`: one batch's online and momentum features (the module holds the queues and `temp`). */
export type ItcLossForward = {
  /** Online image features [B, embedDim] (normalised inside). */
  imageFeat: tf.Tensor;
  /** Online text features [B, embedDim] (normalised inside). */
  textFeat: tf.Tensor;
  /** From the momentum encoders (see MomentumEncoder), normalised. */
  imageFeatMomentum: tf.Tensor;
  /** Momentum text features [B, embedDim], normalised. */
  textFeatMomentum: tf.Tensor;
  /** Item ids [B] (e.g. image index) so captions of one image are positives of each other. */
  ids?: ArrayLike<number>;
  /** Overrides config.alpha (ALBEF ramps alpha up over the first epoch). */
  alpha?: number;
};

/**
 * ALBEF ITC: learnable temperature `temp`, image and text feature queues. Call `forward` for the
 * loss, then `enqueue` with the same momentum features after the step, as ALBEF does.
 */
export class ItcLoss extends Module {
  readonly config: z.infer<typeof itcLossConfigSchema>;
  readonly temp: tf.Variable;
  readonly imageQueue: FeatureQueue;
  readonly textQueue: FeatureQueue;

  constructor(config: ItcLossConfig) {
    super();
    this.config = parseConfig(itcLossConfigSchema, config, 'ItcLoss config');
    if (this.config.tempMin > this.config.tempMax) throw new TesseraError('E_CONFIG', 'ItcLoss config: tempMin > tempMax');
    this.temp = this.addParameter('temp', tf.scalar(this.config.initTemp));
    const rng = new SeededRandom(this.config.seed);
    this.imageQueue = new FeatureQueue(this.config.queueSize, this.config.embedDim, rng.fork('image_queue'));
    this.textQueue = new FeatureQueue(this.config.queueSize, this.config.embedDim, rng.fork('text_queue'));
  }

  /**
   * `itcLoss` against this batch's momentum features plus the queues, with the learnable `temp`.
   * It does not enqueue: call `enqueue` after the step. With `ids`, queue rows of the same id
   * count as positives too. Throws E_INPUT on ids that are not non-negative integers.
   */
  forward(input: ItcLossForward): ItcLossOutput {
    if (input.ids && Array.from(input.ids).some((id) => !Number.isInteger(id) || id < 0)) {
      throw new TesseraError('E_INPUT', 'ItcLoss: ids must be non-negative integers (-1 marks empty queue rows)');
    }
    return tf.tidy(() => {
      const b = input.imageFeat.shape[0] as number;
      const ids = input.ids
        ? tf.tensor1d(
            Int32Array.from({ length: b }, (_, i) => input.ids?.[i] as number),
            'int32',
          )
        : undefined;
      return itcLoss({
        ...input,
        imageQueue: this.imageQueue.value,
        textQueue: this.textQueue.value,
        temp: this.temp,
        alpha: input.alpha ?? this.config.alpha,
        ids,
        queueIds: ids ? this.imageQueue.ids() : undefined,
        tempMin: this.config.tempMin,
        tempMax: this.config.tempMax,
      });
    });
  }

  /** Clamps the stored temperature to [tempMin, tempMax] in place, as ALBEF does each step. */
  clampTemp(): void {
    tf.tidy(() => this.temp.assign(tf.clipByValue(this.temp, this.config.tempMin, this.config.tempMax)));
  }

  /** Pushes this step's momentum features (and ids) into the queues. */
  enqueue(imageFeatMomentum: tf.Tensor, textFeatMomentum: tf.Tensor, ids?: ArrayLike<number>): void {
    this.imageQueue.enqueue(imageFeatMomentum, ids);
    this.textQueue.enqueue(textFeatMomentum, ids);
  }

  override dispose(): void {
    super.dispose();
    this.imageQueue.dispose();
    this.textQueue.dispose();
  }
}
