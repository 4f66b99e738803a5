import { parseConfig, TesseraError, tf } from '@tessera/core';
import { z } from 'zod';

export const combinedObjectiveConfigSchema = z
  .object({
    /** Weight per named loss, e.g. { contrastive: 1, itm: 1, mlm: 1 }; 0 turns a part off. */
    weights: z
      .record(z.string().regex(/^[A-Za-z0-9_]+$/, 'loss names are [A-Za-z0-9_]+'), z.number().min(0))
      .refine((w) => Object.values(w).some((v) => v > 0), 'at least one weight must be > 0'),
  })
  .strict();
export type CombinedObjectiveConfig = z.input<typeof combinedObjectiveConfigSchema>;

export type CombinedObjectiveOutput = {
  /** Sum over parts of weight * part. */
  loss: tf.Scalar;
  /** Each part's own (unweighted) value, by name. */
  parts: Record<string, tf.Scalar>;
  /** Each part times its weight: what it contributes to `loss`. */
  weighted: Record<string, tf.Scalar>;
};

/** Weighted sum of named losses; parts with weight 0 need not be computed or passed. */
export function combineLosses(parts: Record<string, tf.Scalar>, weights: Record<string, number>): CombinedObjectiveOutput {
  const active = Object.entries(weights).filter(([, w]) => w > 0);
  const missing = active.filter(([name]) => !(name in parts)).map(([name]) => name);
  const unknown = Object.keys(parts).filter((name) => !(name in weights));
  if (missing.length > 0 || unknown.length > 0) {
    const say = [
      missing.length ? `missing parts: ${missing.join(', ')}` : '',
      unknown.length ? `parts without a weight: ${unknown.join(', ')}` : '',
    ]
      .filter(Boolean)
      .join('; ');
    throw new TesseraError('E_INPUT', `combineLosses: ${say} (weights name: ${Object.keys(weights).join(', ')})`);
  }
  for (const [name, t] of Object.entries(parts)) {
    if (t.size !== 1) throw new TesseraError('E_INPUT', `combineLosses: part "${name}" must be a scalar, got [${t.shape.join(', ')}]`);
  }
  return tf.tidy(() => {
    const weighted: Record<string, tf.Scalar> = {};
    const kept: Record<string, tf.Scalar> = {};
    for (const [name, w] of active) {
      const part = tf.reshape(parts[name] as tf.Scalar, []) as tf.Scalar;
      kept[name] = tf.clone(part);
      weighted[name] = tf.mul(part, w) as tf.Scalar;
    }
    const loss = tf.addN(Object.values(weighted)) as tf.Scalar;
    return { loss, parts: kept, weighted };
  });
}

/** A combined pretraining objective (e.g. ALBEF: ITC + ITM + MLM) from config weights. */
export class CombinedObjective {
  readonly config: z.infer<typeof combinedObjectiveConfigSchema>;

  constructor(config: CombinedObjectiveConfig) {
    this.config = parseConfig(combinedObjectiveConfigSchema, config, 'CombinedObjective config');
  }

  /** Names of the parts that count (weight > 0). */
  get activeParts(): string[] {
    return Object.entries(this.config.weights)
      .filter(([, w]) => w > 0)
      .map(([name]) => name);
  }

  forward(parts: Record<string, tf.Scalar>): CombinedObjectiveOutput {
    return combineLosses(parts, this.config.weights);
  }
}
