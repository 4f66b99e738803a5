import { parseConfig, TesseraError, tf } from '@tessera/core';
import { z } from 'zod';
import { expectSameShape, l2Normalize, stopGradient } from './tensorUtils.js';

/**
 * Knowledge distillation of logits (Hinton et al. 2015): KL(softmax(t / T) || softmax(s / T)) * T^2,
 * averaged over every leading position (each row of [..., V]), as
 * `F.kl_div(log_softmax(s / T), softmax(t / T), reduction='batchmean') * T * T` on flattened rows.
 * The T^2 keeps gradient magnitudes comparable across temperatures. The teacher gets no gradient.
 */
export function logitDistillationLoss(studentLogits: tf.Tensor, teacherLogits: tf.Tensor, temperature: number): tf.Scalar {
  expectSameShape(studentLogits, teacherLogits, 'logitDistillationLoss');
  if (!(temperature > 0)) throw new TesseraError('E_INPUT', `logitDistillationLoss: temperature must be > 0, got ${temperature}`);
  const vocab = studentLogits.shape[studentLogits.rank - 1] as number;
  return tf.tidy(() => {
    const s = tf.reshape(studentLogits, [-1, vocab]);
    const t = stopGradient(tf.reshape(teacherLogits, [-1, vocab]));
    const teacherLogProbs = tf.logSoftmax(tf.div(t, temperature));
    const studentLogProbs = tf.logSoftmax(tf.div(s, temperature));
    const kl = tf.sum(tf.mul(tf.exp(teacherLogProbs), tf.sub(teacherLogProbs, studentLogProbs)), -1);
    return tf.mul(tf.mean(kl), temperature * temperature) as tf.Scalar;
  });
}

/** `'mse'`: mean squared error over all elements; `'cosine'`: mean over rows of 1 - cosine similarity. */
export type EmbeddingLossKind = 'mse' | 'cosine';

/**
 * Embedding-level distillation: mean squared error (`F.mse_loss`), or 1 - cosine similarity
 * averaged over rows. The student's embeddings must already be projected to the teacher's size.
 */
export function embeddingDistillationLoss(student: tf.Tensor, teacher: tf.Tensor, kind: EmbeddingLossKind): tf.Scalar {
  expectSameShape(student, teacher, `embeddingDistillationLoss (project the student to the teacher's width first)`);
  return tf.tidy(() => {
    const t = stopGradient(teacher);
    if (kind === 'mse') return tf.mean(tf.squaredDifference(student, t)) as tf.Scalar;
    const cosine = tf.sum(tf.mul(l2Normalize(student), l2Normalize(t)), -1);
    return tf.mean(tf.sub(1, cosine)) as tf.Scalar;
  });
}

/**
 * Zod schema (strict) of `DistillationLoss`'s config: temperature T > 0 (default 2), weights of
 * the logit term (default 1) and the embedding term (default 0, off), and the embedding loss kind.
 */
export const distillationConfigSchema = z
  .object({
    temperature: z.number().positive().default(2),
    logitWeight: z.number().min(0).default(1),
    embeddingWeight: z.number().min(0).default(0),
    embeddingLoss: z.enum(['mse', 'cosine']).default('mse'),
  })
  .strict();
/** `DistillationLoss`'s config as written (every field optional); a bad or unknown field throws E_CONFIG. */
export type DistillationConfig = z.input<typeof distillationConfigSchema>;

/**
 * Tensors of `DistillationLoss.forward`. Each pair is needed only when its weight is > 0; the
 * teacher's side gets no gradient.
 */
export type DistillationInput = {
  /** Student logits [..., V]. */
  studentLogits?: tf.Tensor;
  /** Teacher logits, the same shape as the student's. */
  teacherLogits?: tf.Tensor;
  /** Student embeddings, already projected to the teacher's width. */
  studentEmbeds?: tf.Tensor;
  /** Teacher embeddings, the same shape as the student's. */
  teacherEmbeds?: tf.Tensor;
};

/** Result of `DistillationLoss.forward`: the weighted total and the two unweighted terms. */
export type DistillationOutput = {
  /** logitWeight * logitLoss + embeddingWeight * embeddingLoss. */
  loss: tf.Scalar;
  /** `logitDistillationLoss` at the configured temperature; 0 when logitWeight is 0. */
  logitLoss: tf.Scalar;
  /** `embeddingDistillationLoss` of the configured kind; 0 when embeddingWeight is 0. */
  embeddingLoss: tf.Scalar;
};

/** Teacher-to-student distillation: softened-logit KL plus an embedding term, by config weights. */
export class DistillationLoss {
  readonly config: z.infer<typeof distillationConfigSchema>;

  constructor(config: DistillationConfig = {}) {
    this.config = parseConfig(distillationConfigSchema, config, 'DistillationLoss config');
  }

  /**
   * The distillation loss by the config weights; a term whose weight is 0 is not computed.
   * Throws E_INPUT when a term with a weight > 0 lacks its student or teacher tensor.
   */
  forward(input: DistillationInput): DistillationOutput {
    const c = this.config;
    const needLogits = c.logitWeight > 0;
    const needEmbeds = c.embeddingWeight > 0;
    if (needLogits && (!input.studentLogits || !input.teacherLogits)) {
      throw new TesseraError('E_INPUT', 'DistillationLoss: logitWeight > 0 needs studentLogits and teacherLogits');
    }
    if (needEmbeds && (!input.studentEmbeds || !input.teacherEmbeds)) {
      throw new TesseraError('E_INPUT', 'DistillationLoss: embeddingWeight > 0 needs studentEmbeds and teacherEmbeds');
    }
    return tf.tidy(() => {
      const logitLoss = needLogits
        ? logitDistillationLoss(input.studentLogits as tf.Tensor, input.teacherLogits as tf.Tensor, c.temperature)
        : tf.scalar(0);
      const embeddingLoss = needEmbeds
        ? embeddingDistillationLoss(input.studentEmbeds as tf.Tensor, input.teacherEmbeds as tf.Tensor, c.embeddingLoss)
        : tf.scalar(0);
      const loss = tf.add(tf.mul(logitLoss, c.logitWeight), tf.mul(embeddingLoss, c.embeddingWeight)) as tf.Scalar;
      return { loss, logitLoss, embeddingLoss };
    });
  }
}
