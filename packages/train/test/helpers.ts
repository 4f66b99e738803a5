import { Module, SeededRandom, tf } from '@tessera/core';
import type { BatchSource, LossFn } from '../src/index.js';

/** y = x W + b: a matrix (decayed) and a bias (not decayed). */
export class TinyLinear extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
  constructor(inFeatures = 3, outFeatures = 2, seed = 1) {
    super();
    const rng = new SeededRandom(seed);
    this.weight = this.addParameter(
      'weight',
      tf.tensor2d(
        rng.array(inFeatures * outFeatures, (r) => r.normal(0, 0.5)),
        [inFeatures, outFeatures],
      ),
    );
    this.bias = this.addParameter('bias', tf.zeros([outFeatures]));
  }
  forward(x: tf.Tensor2D): tf.Tensor2D {
    return tf.add(tf.matMul(x, this.weight), this.bias) as tf.Tensor2D;
  }
}

export interface Batch {
  x: number[][];
  y: number[][];
}

/** A fixed regression set y = x A + c + noise, served in shuffled batches (reshuffled each epoch). */
export class ArraySource implements BatchSource<Batch> {
  private epoch = 0;
  private index = 0;
  private order: number[];
  readonly xs: number[][];
  readonly ys: number[][];

  constructor(
    readonly size = 24,
    readonly batchSize = 4,
    readonly seed = 7,
  ) {
    const rng = new SeededRandom(seed);
    this.xs = Array.from({ length: size }, () => Array.from(rng.array(3, (r) => r.normal(0, 1))));
    this.ys = this.xs.map((x) => [x[0] - 2 * x[1] + 0.5 + 0.1 * rng.normal(0, 1), 0.3 * x[2] - x[0] + 0.1 * rng.normal(0, 1)]);
    this.order = this.shuffled();
  }

  private shuffled(): number[] {
    return new SeededRandom(this.seed * 1000 + this.epoch).permutation(this.size);
  }

  async next(): Promise<Batch | null> {
    if (this.index + this.batchSize > this.size) {
      this.epoch += 1;
      this.index = 0;
      this.order = this.shuffled();
      return null;
    }
    const ids = this.order.slice(this.index, this.index + this.batchSize);
    this.index += this.batchSize;
    return { x: ids.map((i) => this.xs[i] as number[]), y: ids.map((i) => this.ys[i] as number[]) };
  }

  state(): unknown {
    return { epoch: this.epoch, index: this.index };
  }

  restore(state: unknown): void {
    const s = state as { epoch: number; index: number };
    this.epoch = s.epoch;
    this.index = s.index;
    this.order = this.shuffled();
  }
}

/** Mean squared error with input noise drawn from the step's random stream (so RNG state matters). */
export function mseLoss(model: TinyLinear, noise = 0.05): LossFn<Batch> {
  return (batch, ctx) => {
    const jitter = ctx.rng.array(batch.x.length * 3, (r) => r.normal(0, noise));
    const x = tf.add(tf.tensor2d(batch.x), tf.tensor2d(jitter, [batch.x.length, 3])) as tf.Tensor2D;
    const err = tf.sub(model.forward(x), tf.tensor2d(batch.y));
    const sq = tf.square(err);
    return {
      parts: { first: tf.mean(tf.slice(sq, [0, 0], [-1, 1])) as tf.Scalar, second: tf.mean(tf.slice(sq, [0, 1], [-1, 1])) as tf.Scalar },
      metrics: { abs_error: tf.mean(tf.abs(err)) as tf.Scalar },
    };
  };
}

/** Full-data MSE, no noise: an eval function. */
export function evalMse(model: TinyLinear, source: ArraySource): number {
  return tf.tidy(() => tf.mean(tf.square(tf.sub(model.forward(tf.tensor2d(source.xs)), tf.tensor2d(source.ys)))).dataSync()[0] as number);
}

/** A toy dual encoder: linear projections of two views, L2-normalised, and a learnable logit scale. */
export class ToyClip extends Module {
  readonly imageProj: tf.Variable;
  readonly textProj: tf.Variable;
  readonly logitScale: tf.Variable;
  constructor() {
    super();
    const rng = new SeededRandom(11);
    this.imageProj = this.addParameter(
      'image_proj',
      tf.tensor2d(
        rng.array(12, (r) => r.normal(0, 1)),
        [4, 3],
      ),
    );
    this.textProj = this.addParameter(
      'text_proj',
      tf.tensor2d(
        rng.array(15, (r) => r.normal(0, 1)),
        [5, 3],
      ),
    );
    this.logitScale = this.addParameter('logit_scale', tf.scalar(Math.log(1 / 0.07)), { decay: false });
  }
  features(batch: { images: number[][]; texts: number[][] }) {
    const norm = (t: tf.Tensor2D) => tf.div(t, tf.norm(t, 2, 1, true));
    return {
      image: norm(tf.matMul(tf.tensor2d(batch.images), this.imageProj)),
      text: norm(tf.matMul(tf.tensor2d(batch.texts), this.textProj)),
    };
  }
  /** CLIP's symmetric InfoNCE over whatever batch the features come from. */
  loss(f: Record<string, tf.Tensor>) {
    const logits = tf.mul(tf.exp(this.logitScale), tf.matMul(f.image as tf.Tensor2D, f.text as tf.Tensor2D, false, true));
    const labels = tf.oneHot(tf.range(0, logits.shape[0] as number, 1, 'int32'), logits.shape[0] as number);
    const i2t = tf.losses.softmaxCrossEntropy(labels, logits);
    const t2i = tf.losses.softmaxCrossEntropy(labels, tf.transpose(logits));
    return { loss: tf.div(tf.add(i2t, t2i), 2) as tf.Scalar, parts: { i2t: i2t as tf.Scalar, t2i: t2i as tf.Scalar } };
  }
}

export interface PairBatch {
  images: number[][];
  texts: number[][];
}

/** Random paired views served in fixed batches of `batchSize` (no shuffling). */
export class PairSource implements BatchSource<PairBatch> {
  private index = 0;
  readonly images: number[][];
  readonly texts: number[][];
  constructor(
    readonly size = 12,
    readonly batchSize = 6,
  ) {
    const rng = new SeededRandom(5);
    this.images = Array.from({ length: size }, () => Array.from(rng.array(4, (r) => r.normal(0, 1))));
    this.texts = Array.from({ length: size }, () => Array.from(rng.array(5, (r) => r.normal(0, 1))));
  }
  async next(): Promise<PairBatch | null> {
    if (this.index >= this.size) {
      this.index = 0;
      return null;
    }
    const b = {
      images: this.images.slice(this.index, this.index + this.batchSize),
      texts: this.texts.slice(this.index, this.index + this.batchSize),
    };
    this.index += this.batchSize;
    return b;
  }
  state(): unknown {
    return this.index;
  }
  restore(state: unknown): void {
    this.index = state as number;
  }
}
