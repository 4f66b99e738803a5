import { parseConfig } from '@tessera/core';
import { z } from 'zod';

/**
 * The fields of a run's `train` section, without the rule that `steps` or `epochs` is set (a run
 * config that can fit the steps itself, e.g. to a time budget, embeds this and checks that rule).
 */
export const trainSectionSchema = z
  .object({
    /** Peak learning rate. */
    lr: z.number().positive(),
    schedule: z.enum(['cosine', 'linear', 'constant']).default('cosine'),
    warmupSteps: z.number().int().min(0).default(0),
    /** The lr that cosine and linear decay end at. */
    minLr: z.number().min(0).default(0),
    /** Optimizer steps to run; or give `epochs` (the source must then know its steps per epoch). */
    steps: z.number().int().positive().optional(),
    epochs: z.number().int().positive().optional(),
    /** Examples per micro-batch (the data package batches with it; the trainer counts samples with it). */
    batchSize: z.number().int().positive(),
    /** Micro-batches per optimizer step. */
    accumulation: z.number().int().positive().default(1),
    /** Clip gradients to this global L2 norm; null: no clipping. */
    clipGradNorm: z.number().positive().nullable().default(null),
    weightDecay: z.number().min(0).default(0.1),
    betas: z.tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)]).default([0.9, 0.999]),
    eps: z.number().positive().default(1e-8),
    /** Weights of the loss parts when the loss function returns only parts. */
    lossWeights: z.record(z.string(), z.number()).default({}),
    /** Write a metrics line every N steps. */
    logEvery: z.number().int().positive().default(1),
    /** Run the eval function every N steps (0: never). */
    evalEvery: z.number().int().min(0).default(0),
    /** Write a checkpoint every N steps (0: only at the end). */
    checkpointEvery: z.number().int().min(0).default(0),
    /** Checkpoints kept besides the best one. */
    keepLast: z.number().int().positive().default(3),
    /** The metric that picks the best checkpoint and drives early stopping (e.g. `eval/loss`). */
    monitor: z
      .object({
        metric: z.string().min(1),
        mode: z.enum(['min', 'max']).default('min'),
        /** Stop after this many evaluations without improvement (absent: never stop early). */
        patience: z.number().int().positive().optional(),
        /** An improvement must beat the best by more than this. */
        minDelta: z.number().min(0).default(0),
      })
      .strict()
      .optional(),
    seed: z.number().int().default(0),
    /** Where checkpoints, metrics.jsonl and the curves (loss.svg, and eval.svg when there are eval metrics) go. */
    outputDir: z.string().min(1),
  })
  .strict();

/** The `train` section of a run's config. Every field has a default except what a run must choose. */
export const trainConfigSchema = trainSectionSchema.refine((c) => c.steps !== undefined || c.epochs !== undefined, {
  message: 'set train.steps or train.epochs',
  path: ['steps'],
});

/** A validated `train` section with every default filled in, as `parseTrainConfig` returns it. */
export type TrainConfig = z.infer<typeof trainConfigSchema>;
/**
 * A `train` section as written in a config file: `lr`, `batchSize`, `outputDir` and one of
 * `steps` or `epochs` are required; everything else has a default.
 */
export type TrainConfigInput = z.input<typeof trainConfigSchema>;

/** Validates a `train` section: a wrong or unknown field is an E_CONFIG error naming its path. */
export function parseTrainConfig(value: unknown): TrainConfig {
  return parseConfig(trainConfigSchema, value, 'train config');
}
