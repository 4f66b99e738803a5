import { TesseraError, tf } from '@tessera/core';

/**
 * Cross-entropy of logits [R, C] against probability targets [R, C], averaged over rows, with
 * optional label smoothing applied to the targets as PyTorch does for probability targets
 * (`t * (1 - eps) + eps / C`).
 */
export function softTargetCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor2D, labelSmoothing = 0): tf.Scalar {
  return tf.tidy(() => {
    const classes = logits.shape[1];
    const smoothed = labelSmoothing > 0 ? tf.add(tf.mul(targets, 1 - labelSmoothing), labelSmoothing / classes) : targets;
    return tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(logits, -1), smoothed), -1))) as tf.Scalar;
  });
}

/** Options of `tokenCrossEntropy`, as PyTorch's `F.cross_entropy` arguments of the same names. */
export interface TokenCrossEntropyOptions {
  /** Labels equal to this are ignored (PyTorch's ignore_index; default -100). */
  ignoreIndex?: number;
  /** Mixes the one-hot target with the uniform distribution (default 0). */
  labelSmoothing?: number;
}

/** Result of `tokenCrossEntropy` and the losses built on it: loss, accuracy and count over the labels that count. */
export type TokenCrossEntropyOutput = {
  /** Mean loss over the labels that are not ignored (0 when all are ignored). */
  loss: tf.Scalar;
  /** Fraction of non-ignored positions whose argmax equals the label. */
  accuracy: tf.Scalar;
  /** Number of positions that count. */
  count: number;
};

/**
 * Classification loss over logits [..., V] and integer labels [...], as PyTorch's
 * `F.cross_entropy(logits.reshape(-1, V), labels.reshape(-1), ignore_index, label_smoothing)`.
 * Shared by masked LM, captioning, text denoising and ITM.
 */
export function tokenCrossEntropy(logits: tf.Tensor, labels: tf.Tensor, options: TokenCrossEntropyOptions = {}): TokenCrossEntropyOutput {
  const ignoreIndex = options.ignoreIndex ?? -100;
  const smoothing = options.labelSmoothing ?? 0;
  const vocab = logits.shape[logits.rank - 1] as number;
  if (logits.shape.slice(0, -1).join() !== labels.shape.join()) {
    throw new TesseraError(
      'E_INPUT',
      `labels [${labels.shape.join(', ')}] must match the leading dims of logits [${logits.shape.join(', ')}]`,
    );
  }
  if (labels.dtype !== 'int32') throw new TesseraError('E_INPUT', `labels must be int32, got ${labels.dtype}`);
  // The rows that count and their labels, read once: the loss then touches only those rows
  // (15 % of positions for masked LM), and picks each label's log-probability with a gather
  // instead of a [positions, vocab] one-hot.
  const values = labels.dataSync();
  const rows: number[] = [];
  const picked: number[] = [];
  const targets: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (v === ignoreIndex) continue;
    if (v < 0 || v >= vocab) {
      throw new TesseraError('E_INPUT', `label ${v} is outside [0, ${vocab}); use ${ignoreIndex} for positions that do not count`);
    }
    picked.push(rows.length * vocab + v);
    rows.push(i);
    targets.push(v);
  }
  const count = rows.length;
  return tf.tidy(() => {
    const flatLogits = tf.reshape(logits, [-1, vocab]) as tf.Tensor2D;
    if (count === 0) {
      // Nothing to predict: a zero that still depends on the logits, so gradients are zeros.
      const zero = tf.mul(tf.sum(flatLogits), 0) as tf.Scalar;
      return { loss: zero, accuracy: tf.scalar(0), count };
    }
    const selected = count === values.length ? flatLogits : (tf.gather(flatLogits, tf.tensor1d(rows, 'int32')) as tf.Tensor2D);
    const logProbs = tf.logSoftmax(selected, -1);
    const nll = tf.neg(tf.gather(tf.reshape(logProbs, [-1]), tf.tensor1d(picked, 'int32')));
    const perToken = smoothing > 0 ? tf.add(tf.mul(nll, 1 - smoothing), tf.mul(tf.neg(tf.mean(logProbs, -1)), smoothing)) : nll;
    const loss = tf.mean(perToken) as tf.Scalar;
    const accuracy = tf.mean(tf.cast(tf.equal(tf.argMax(selected, -1), tf.tensor1d(targets, 'int32')), 'float32')) as tf.Scalar;
    return { loss, accuracy, count };
  });
}
