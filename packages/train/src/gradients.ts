import { combineLosses, TesseraError, tf } from '@tessera/core';
import type { GradientFn, LossFn, LossOutput, StepContext, StepGradients } from './types.js';

/** Loss, parts and metrics kept alive out of a gradient tape, read and freed by `readOutput`. */
export interface KeptOutput {
  loss: tf.Scalar;
  parts: Record<string, tf.Scalar>;
  metrics: Record<string, tf.Scalar | number>;
}

/**
 * The scalar to minimise: `out.loss` if given, else `out.parts` combined by core's
 * `combineLosses` rule (a part without a weight counts 1, weight 0 turns it off, a weight naming
 * a part that does not exist -> E_CONFIG, so typos fail on the first step).
 */
export function totalLoss(out: LossOutput, weights: Record<string, number> = {}): tf.Scalar {
  if (out.loss) return out.loss;
  const parts = out.parts ?? {};
  if (Object.keys(parts).length === 0) throw new TesseraError('E_INPUT', 'the loss function returned neither `loss` nor `parts`');
  return tf.tidy(() => combineLosses(parts, weights, 'train.lossWeights').loss);
}

/**
 * Runs `f` under a gradient tape and returns d(value)/d(parameter) for every parameter the
 * value depends on (parameters it does not reach get no entry) plus the kept value.
 */
export function valueAndGrads<T extends tf.Tensor>(
  f: () => T,
  parameters: Map<string, tf.Variable>,
): { value: T; grads: Map<string, tf.Tensor> } {
  const names = [...parameters.keys()];
  const { value, grads } = tf.engine().gradients(f, [...parameters.values()], undefined, true);
  const out = new Map<string, tf.Tensor>();
  names.forEach((name, i) => {
    const g = grads[i];
    if (g) out.set(name, g);
  });
  return { value, grads: out };
}

/** Calls a loss function and keeps what it returned beyond the enclosing tape's tidy. */
export function keepOutput(out: LossOutput, weights: Record<string, number>): KeptOutput {
  const loss = totalLoss(out, weights);
  const kept: KeptOutput = { loss: tf.keep(loss), parts: {}, metrics: {} };
  for (const [k, v] of Object.entries(out.parts ?? {})) kept.parts[k] = v === loss ? v : tf.keep(v);
  for (const [k, v] of Object.entries(out.metrics ?? {})) kept.metrics[k] = typeof v === 'number' ? v : tf.keep(v);
  return kept;
}

/** Reads a kept output to numbers and frees its tensors. */
export async function readOutput(
  kept: KeptOutput,
): Promise<{ loss: number; parts: Record<string, number>; metrics: Record<string, number> }> {
  const num = async (t: tf.Scalar | number) => (typeof t === 'number' ? t : ((await t.data())[0] as number));
  const parts: Record<string, number> = {};
  const metrics: Record<string, number> = {};
  for (const [k, v] of Object.entries(kept.parts)) parts[k] = await num(v);
  for (const [k, v] of Object.entries(kept.metrics)) metrics[k] = await num(v);
  const loss = await num(kept.loss);
  const tensors = new Set<tf.Tensor>([
    kept.loss,
    ...Object.values(kept.parts),
    ...Object.values(kept.metrics).filter((v): v is tf.Scalar => typeof v !== 'number'),
  ]);
  for (const t of tensors) t.dispose();
  return { loss, parts, metrics };
}

/** Adds `b` into the accumulator `a` (freeing the old sums and `b`). */
export function accumulateInto(a: Map<string, tf.Tensor>, b: Map<string, tf.Tensor>, scale = 1): void {
  for (const [name, g] of b) {
    const scaled = scale === 1 ? g : tf.mul(g, scale);
    if (scaled !== g) g.dispose();
    const previous = a.get(name);
    if (previous) {
      a.set(name, tf.add(previous, scaled));
      previous.dispose();
      scaled.dispose();
    } else {
      a.set(name, scaled);
    }
  }
}

/** Averages numbers from several micro-batches, key by key. */
export function meanRecords(records: Record<string, number>[]): Record<string, number> {
  const sums: Record<string, number> = {};
  for (const r of records) for (const [k, v] of Object.entries(r)) sums[k] = (sums[k] ?? 0) + v / records.length;
  return sums;
}

/**
 * Plain gradient accumulation: the mean of the micro-batch gradients. For a loss that is a
 * mean over equal-sized micro-batches this is exactly the gradient of the large batch.
 * Each micro-batch gets its own fork of the step's random stream.
 */
export function meanGradients<B>(lossFn: LossFn<B>, lossWeights: Record<string, number> = {}): GradientFn<B> {
  return async (microBatches, ctx, parameters) => {
    const grads = new Map<string, tf.Tensor>();
    const values: Awaited<ReturnType<typeof readOutput>>[] = [];
    for (const [i, batch] of microBatches.entries()) {
      const micro: StepContext = { ...ctx, rng: ctx.rng.fork(`micro${i}`) };
      let kept: KeptOutput | undefined;
      const { value, grads: g } = valueAndGrads(() => {
        kept = keepOutput(lossFn(batch, micro), lossWeights);
        return kept.loss;
      }, parameters);
      accumulateInto(grads, g, 1 / microBatches.length);
      values.push(await readOutput(kept as KeptOutput));
      value.dispose();
    }
    return combine(grads, values);
  };
}

export function combine(grads: Map<string, tf.Tensor>, values: Awaited<ReturnType<typeof readOutput>>[]): StepGradients {
  return {
    grads,
    loss: values.reduce((s, v) => s + v.loss, 0) / values.length,
    parts: meanRecords(values.map((v) => v.parts)),
    metrics: meanRecords(values.map((v) => v.metrics)),
  };
}
