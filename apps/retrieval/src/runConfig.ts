import { isTesseraError, parseConfig } from '@tessera/core';
import {
  expandPreset,
  type ModelConfig,
  type ModelConfigInput,
  modelConfig,
  modelConfigSchema,
  type PresetModelSpec,
} from '@tessera/models';
import { loadConfigFile, trainSectionSchema } from '@tessera/train';
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

const isPresetSpec = (v: unknown): v is PresetModelSpec => typeof v === 'object' && v !== null && !Array.isArray(v) && 'preset' in v;

/**
 * A run's `model`: a preset name, a full model config, or a preset with the fields that differ
 * from it (`{ preset: clip-tiny-hf, initLogitScale: 3.912 }`), which is expanded to the full
 * config before validation, so a bad or unknown field is named by its path (`model.initLogitScal`).
 */
const runModelSchema = z.preprocess(
  (value, ctx) => {
    if (!isPresetSpec(value)) return value;
    try {
      return expandPreset(value);
    } catch (error) {
      if (!isTesseraError(error, 'E_CONFIG')) throw error;
      ctx.addIssue({ code: 'custom', path: ['preset'], message: error.message, input: value.preset });
      return value;
    }
  },
  z.union([z.string().min(1), modelConfigSchema]),
) as unknown as z.ZodType<string | ModelConfig, string | ModelConfigInput | PresetModelSpec>;

/**
 * A `tessera train` run of a CLIP model: which model, which data, how to tokenize, and the
 * trainer's `train` section (@tessera/train's schema). Paths are relative to the config file.
 * Every field is checked here, before any data is read.
 */
export const runConfigSchema = z
  .object({
    /** What `tessera train` trains: this schema is the `clip` task (the default). */
    task: z.literal('clip').default('clip'),
    /**
     * A preset name (`tessera models` lists them), a full model config, or a preset with the
     * fields that differ from it (`{ preset: clip-tiny-hf, initLogitScale: 3.912 }`); or give `init`.
     */
    model: runModelSchema.optional(),
    /**
     * Start from a trained model instead: a Hugging Face folder (CLIP, Chinese-CLIP, SigLIP) or
     * a Tessera model directory. Its architecture, weights, tokenizer and image preprocessing
     * are used, and training continues them on this run's data.
     */
    init: z.string().min(1).optional(),
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
        /** Training manifest (JSONL/CSV/TSV); or give `shards`. */
        train: z.string().min(1).optional(),
        /**
         * Training WebDataset shards instead of a manifest: a directory of .tar files, a .tar,
         * an http(s):// or file:// URL, or a brace pattern `shards/{00000..00009}.tar`
         * (img2dataset's layout or `tessera data shard`'s).
         */
        shards: z.string().min(1).optional(),
        /**
         * With shards: this process is rank `rank` of `worldSize` and reads only its shards
         * (shard i goes to rank i mod worldSize), so the ranks see every sample once per epoch.
         * `tessera train --shard i/n` sets both, as `tessera index --shard i/n` does.
         */
        rank: z.number().int().nonnegative().optional(),
        worldSize: z.number().int().positive().optional(),
        /** With shards: samples held to shuffle from (webdataset's `shuffle(n)`); memory grows with it, not the data. */
        shuffleBuffer: z.number().int().positive().default(1000),
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
    train: trainSectionSchema.refine((t) => t.batchSize >= 2, {
      message: 'the contrastive loss needs negatives in the batch: set train.batchSize to at least 2',
      path: ['batchSize'],
    }),
    /**
     * How the run initialises the backend (`initBackend`): `threads`, the native kernels' pool
     * (default 1). A budgeted run fits its steps to the speed measured with them.
     */
    backend: z
      .object({ threads: z.number().int().min(1).default(1) })
      .strict()
      .default({ threads: 1 }),
    /** Fit the number of steps to this many minutes of training (measured on the first steps). */
    budget: z.object({ minutes: z.number().positive() }).strict().optional(),
    /** Where the trained model directory goes (default: <outputDir>/model). */
    exportDir: z.string().optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if ((c.data.train === undefined) === (c.data.shards === undefined))
      ctx.addIssue({
        code: 'custom',
        path: ['data', c.data.train === undefined ? 'train' : 'shards'],
        message: 'give the training data once: data.train (a manifest) or data.shards (WebDataset shards)',
      });
    const { rank, worldSize, shards } = c.data;
    if ((rank !== undefined || worldSize !== undefined) && shards === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['data', rank !== undefined ? 'rank' : 'worldSize'],
        message: 'rank/worldSize split WebDataset shards between processes: use them with data.shards',
      });
    if ((rank ?? 0) >= (worldSize ?? 1))
      ctx.addIssue({
        code: 'custom',
        path: ['data', 'rank'],
        message: `rank ${rank ?? 0} must be below worldSize ${worldSize ?? 1} (ranks are 0..worldSize-1)`,
      });
    if (c.budget === undefined && c.train.steps === undefined && c.train.epochs === undefined)
      ctx.addIssue({ code: 'custom', path: ['train', 'steps'], message: 'set train.steps, train.epochs or budget.minutes' });
    if (c.init !== undefined) {
      // The folder's own config, tokenizer and preprocessing are checked when it is opened.
      if (c.model !== undefined)
        ctx.addIssue({ code: 'custom', path: ['model'], message: 'init takes the architecture from its folder: remove model (or init)' });
      if (c.tokenizer.path !== undefined)
        ctx.addIssue({ code: 'custom', path: ['tokenizer', 'path'], message: "init brings its folder's tokenizer: remove tokenizer.path" });
      return;
    }
    if (c.model === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['model'],
        message: 'set model (a preset such as clip-tiny, or a config) or init (a pretrained folder)',
      });
      return;
    }
    let model: ModelConfig;
    try {
      model = typeof c.model === 'string' ? modelConfig(c.model) : c.model;
    } catch (error) {
      ctx.addIssue({ code: 'custom', path: ['model'], message: (error as Error).message });
      return;
    }
    if (model.type !== 'clip') {
      ctx.addIssue({
        code: 'custom',
        path: ['model', 'type'],
        message: "`tessera train` trains CLIP models (type: 'clip'); pick clip-tiny or clip-small",
      });
      return;
    }
    if (model.text.maxPositions < c.data.maxTextLength)
      ctx.addIssue({
        code: 'custom',
        path: ['data', 'maxTextLength'],
        message: `${c.data.maxTextLength} exceeds the model's text.maxPositions ${model.text.maxPositions}`,
      });
  });

export type RunConfig = z.output<typeof runConfigSchema>;
export type RunConfigInput = z.input<typeof runConfigSchema>;

/** Validates a CLIP run config: a bad or unknown field is an E_CONFIG error naming its path. */
export function parseRunConfig(value: unknown): RunConfig {
  return parseConfig(runConfigSchema, value, 'run config');
}

/**
 * Reads a run config file (YAML or JSON) with `--dotted.key value` overrides from `argv`
 * (@tessera/train's `loadConfigFile`) and validates it.
 */
export async function loadRunConfig(file: string, argv: readonly string[] = []): Promise<RunConfig> {
  return parseRunConfig(await loadConfigFile(file, argv));
}
