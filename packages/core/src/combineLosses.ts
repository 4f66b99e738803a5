import { TesseraError } from '@tessera/base';
import { tf } from './tf.js';

/**
 * What `combineLosses` returns: the total and, by name, only the parts with a non-zero weight.
 * All are new scalars, owned by the caller.
 */
export type CombinedLosses = {
  /** Sum over the parts that count of weight * part. */
  loss: tf.Scalar;
  /** Each counted part's own (unweighted) value, by name. */
  parts: Record<string, tf.Scalar>;
  /** Each counted part times its weight: what it contributes to `loss`. */
  weighted: Record<string, tf.Scalar>;
};

/**
 * Weighted sum of named scalar losses, the one rule wherever loss parts are combined
 * (`CombinedObjective` of @tessera/objectives, the trainer's `train.lossWeights`):
 * `loss = sum_k weights[k] * parts[k]`, where
 * - a part without a weight counts with weight 1;
 * - a weight of 0 turns its part off: the part need not be computed or passed;
 * - a non-zero weight naming a part that is not there is E_CONFIG (a typo, or a part the loss
 *   does not return), so a bad weight fails on the first step.
 * `what` names the weights in that error (e.g. "train.lossWeights").
 */
export function combineLosses(
  parts: Record<string, tf.Scalar>,
  weights: Record<string, number> = {},
  what = 'loss weights',
): CombinedLosses {
  const names = Object.keys(parts);
  const unknown = Object.entries(weights)
    .filter(([name, w]) => w !== 0 && !(name in parts))
    .map(([name]) => name);
  if (unknown.length > 0) {
    throw new TesseraError(
      'E_CONFIG',
      `${what} names unknown loss parts: ${unknown.join(', ')} (the loss returns: ${names.join(', ') || 'nothing'}); ` +
        'fix the name, or give the part a weight of 0 to turn it off',
    );
  }
  for (const [name, t] of Object.entries(parts)) {
    if (t.size !== 1) throw new TesseraError('E_INPUT', `combineLosses: part "${name}" must be a scalar, got [${t.shape.join(', ')}]`);
  }
  const counted = names.filter((name) => (weights[name] ?? 1) !== 0);
  if (counted.length === 0) {
    throw new TesseraError(
      'E_INPUT',
      `combineLosses: no loss part counts (parts: ${names.join(', ') || 'none'}; ${what} turn them all off)`,
    );
  }
  return tf.tidy(() => {
    const kept: Record<string, tf.Scalar> = {};
    const weighted: Record<string, tf.Scalar> = {};
    for (const name of counted) {
      const part = tf.reshape(parts[name] as tf.Scalar, []) as tf.Scalar;
      kept[name] = tf.clone(part);
      weighted[name] = tf.mul(part, weights[name] ?? 1) as tf.Scalar;
    }
    return { loss: tf.addN(Object.values(weighted)) as tf.Scalar, parts: kept, weighted };
  });
}
