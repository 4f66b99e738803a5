import type { SeededRandom, tf } from '@tessera/core';

/** What a loss function and an eval function are told about the current step. */
export interface StepContext {
  /** True in training steps (dropout on), false in evaluation. */
  training: boolean;
  /** The 0-based optimizer step being computed. */
  step: number;
  /** The random stream for this micro-batch (masking, dropout...); restored exactly on resume. */
  rng: SeededRandom;
}

/**
 * A loss function's result. Give `loss`, or only `parts` to have the trainer combine them as
 * the weighted sum `sum_k lossWeights[k] * parts[k]` (core's `combineLosses`: weight 1 when not
 * configured, 0 turns a part off).
 * `parts` are logged as `loss/<name>`, `metrics` as `<name>`; the trainer disposes them all.
 */
export interface LossOutput {
  loss?: tf.Scalar;
  parts?: Record<string, tf.Scalar>;
  metrics?: Record<string, tf.Scalar | number>;
}

/**
 * The loss of one micro-batch. It runs synchronously under the trainer's gradient tape, so it
 * must return its scalars (`loss` or `parts`) directly, not a promise; the trainer disposes them.
 */
export type LossFn<B> = (batch: B, ctx: StepContext) => LossOutput;

/**
 * A stream of batches (the data package implements it). `next()` gives null at the end of an
 * epoch and then starts the next one; `state()` is a JSON-serialisable position that
 * `restore()` returns to, so that a resumed run sees the same batches.
 */
export interface BatchSource<B> {
  /** The next batch, or null once at the end of each epoch (the call after it starts the next epoch). */
  next(): Promise<B | null>;
  /** The position of the next batch, JSON-serialisable: saved in every checkpoint. */
  state(): unknown;
  /** Returns to a position from `state()`, so the next batch is the one that followed it. */
  restore(state: unknown): void;
  /** Optional counters (e.g. skipped records by reason), logged as a `data` record at each epoch end. */
  stats?(): Record<string, number>;
}

/** One optimizer step's gradients (by parameter name) and the values to log. */
export interface StepGradients {
  /** Owned by the caller, who disposes them. */
  grads: Map<string, tf.Tensor>;
  loss: number;
  parts: Record<string, number>;
  metrics: Record<string, number>;
}

/**
 * Computes one optimizer step's gradients from its micro-batches (one unless accumulating).
 * The default averages micro-batch gradients (`meanGradients`); `cachedFeatureGradients`
 * gives the exact large-batch gradient of a contrastive loss, as open_clip does.
 */
export type GradientFn<B> = (microBatches: B[], ctx: StepContext, parameters: Map<string, tf.Variable>) => Promise<StepGradients>;
