import { type CombinedLosses, combineLosses, parseConfig, type tf } from '@tessera/core';
import { z } from 'zod';

/** Zod schema (strict) of `CombinedObjective`'s config: a weight >= 0 per loss name, at least one > 0. */
export const combinedObjectiveConfigSchema = z
  .object({
    /**
     * Weight per named loss, e.g. { contrastive: 1, itm: 1, mlm: 1 }; 0 turns a part off, a part
     * without a weight counts with weight 1 (core's `combineLosses` rule).
     */
    weights: z
      .record(z.string().regex(/^[A-Za-z0-9_]+$/, 'loss names are [A-Za-z0-9_]+'), z.number().min(0))
      .refine((w) => Object.values(w).some((v) => v > 0), 'at least one weight must be > 0'),
  })
  .strict();
/** `CombinedObjective`'s config, e.g. `{ weights: { itc: 1, itm: 1, mlm: 1 } }`; a bad field throws E_CONFIG. */
export type CombinedObjectiveConfig = z.input<typeof combinedObjectiveConfigSchema>;

/** A combined pretraining objective (e.g. ALBEF: ITC + ITM + MLM) from config weights. */
export class CombinedObjective {
  readonly config: z.infer<typeof combinedObjectiveConfigSchema>;

  constructor(config: CombinedObjectiveConfig) {
    this.config = parseConfig(combinedObjectiveConfigSchema, config, 'CombinedObjective config');
  }

  /** Names of the configured parts that count (weight > 0); a part passed without a weight counts too. */
  get activeParts(): string[] {
    return Object.entries(this.config.weights)
      .filter(([, w]) => w > 0)
      .map(([name]) => name);
  }

  /**
   * Weighted sum of the named scalar losses by core's `combineLosses`: the total, each part and
   * each weighted part. Throws E_CONFIG when a non-zero weight names a part that is not passed.
   */
  forward(parts: Record<string, tf.Scalar>): CombinedLosses {
    return combineLosses(parts, this.config.weights, 'CombinedObjective weights');
  }
}
