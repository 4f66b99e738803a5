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
