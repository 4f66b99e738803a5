import { parseConfig, TesseraError } from '@tessera/core';
import { modelConfigSchema } from '@tessera/models';
import { applyOverrides, parseOverrides, readConfigFile } from '@tessera/train';
import { z } from 'zod';

export const augmentSchema = z
  .object({
    pad: z.number().int().min(0).default(12),
    scale: z.tuple([z.number().gt(0).max(1), z.number().gt(0).max(1)]).default([0.6, 1]),
    ratio: z.tuple([z.number().positive(), z.number().positive()]).default([0.8, 1.25]),
    grayscale: z.number().min(0).max(1).default(0.2),
    brightness: z.number().min(0).default(0.3),
    contrast: z.number().min(0).default(0.3),
    saturation: z.number().min(0).default(0.4),
    hue: z.number().min(0).max(0.5).default(0.05),
  })
  .strict();

/**
 * A `tessera train` run: which model, which data, how to tokenize, and the trainer's `train`
 * section (validated by @tessera/train). Paths are relative to the config file.
 */
export const runConfigSchema = z
  .object({
    /** A preset name (`tessera models` lists them) or a full model config. */
    model: z.union([z.string().min(1), modelConfigSchema]),
    tokenizer: z
      .object({
        /** A tokenizer.json to use; without it one is trained on the training captions. */
        path: z.string().optional(),
        /**
         * 'words': WordPiece with whole words + characters (CJK per character), best for short captions;
         * 'wordpiece' / 'bpe': @tessera/tokenizer's trainers (WordPiece, byte-level BPE).
         */
        type: z.enum(['words', 'wordpiece', 'bpe']).default('words'),
        vocabSize: z.number().int().positive().default(8000),
        minFrequency: z.number().int().positive().default(1),
      })
      .strict()
      .default({ type: 'words', vocabSize: 8000, minFrequency: 1 }),
    data: z
      .object({
        /** Training manifest (JSONL/CSV/TSV). */
        train: z.string().min(1),
        /** Held-out manifest scored during and after training (retrieval R@K). */
        eval: z.string().optional(),
        /** One caption per language per image and step; also the languages scored. */
        languages: z.array(z.string().min(1)).min(1).default(['en']),
        maxTextLength: z.number().int().min(2).default(32),
        imageKey: z.string().optional(),
        captionKey: z.string().optional(),
        /** Training augmentation; false: none. */
        augment: z.union([augmentSchema, z.literal(false)]).default(augmentSchema.parse({})),
        /** Eval queries: every caption of a language, or each image's first one. */
        evalCaptions: z.enum(['all', 'first']).default('all'),
      })
      .strict(),
    /** The trainer's section (lr, steps, batchSize, outputDir...): see @tessera/train. */
    train: z.record(z.string(), z.unknown()),
    /** Fit the number of steps to this many minutes of training (measured on the first steps). */
    budget: z.object({ minutes: z.number().positive() }).strict().optional(),
    /** Where the trained model directory goes (default: <outputDir>/model). */
    exportDir: z.string().optional(),
  })
  .strict();

export type RunConfig = z.output<typeof runConfigSchema>;
export type RunConfigInput = z.input<typeof runConfigSchema>;

export function parseRunConfig(value: unknown): RunConfig {
  return parseConfig(runConfigSchema, value, 'run config');
}

/**
 * Reads a run config file (YAML or JSON), applies `--dotted.key value` overrides from `argv`
 * and validates it. Any other argument is an error, so a mistyped flag is not silently ignored.
 */
export async function loadRunConfig(file: string, argv: readonly string[] = []): Promise<RunConfig> {
  const { overrides, rest } = parseOverrides(argv);
  if (rest.length > 0) {
    throw new TesseraError(
      'E_CONFIG',
      `unrecognised argument(s): ${rest.join(' ')}. Config overrides are dotted keys with a value, e.g. --train.lr 3e-4 or --budget.minutes 10`,
    );
  }
  return parseRunConfig(applyOverrides(await readConfigFile(file), overrides));
}
