import path from 'node:path';
import { createLogger, type Logger, parseConfig, TesseraError, tf } from '@tessera/core';
import {
  Captioner,
  type CaptionModel,
  CaptionVocab,
  captionerBaseSchema,
  captionerConfigSchema,
  GitCaptioner,
  loadPretrainedCaptioner,
  saveCaptioner,
  savePretrainedCaptioner,
} from '@tessera/models';
import { CaptioningLoss, teacherForcing } from '@tessera/objectives';
import { loadConfigFile, type TrainConfig, Trainer, type TrainResult, trainConfigSchema } from '@tessera/train';
import { z } from 'zod';
import { type CaptionBatch, CaptionBatchSource, type CaptionClip, type CaptionIds, loadCaptionSet } from './captionDataset.js';
import { initVisionFromClip } from './visionInit.js';

/** A captioning run's config (`datasets/moving-emoji/captioner-tiny.yaml`). */
export const captionerRunConfigSchema = z
  .object({
    task: z.literal('captioning').default('captioning'),
    /** The captioner's architecture (defaults for what is left out); vocabSize comes from the training captions. None with init.pretrained. */
    model: captionerBaseSchema.omit({ vocabSize: true }).partial().optional(),
    data: z
      .object({
        /** Manifest (JSONL/CSV) of captioned videos; relative paths are relative to the config file. */
        manifest: z.string().min(1),
        trainSplit: z.string().default('train'),
        /** Use at most this many training clips (all by default). */
        limit: z.number().int().positive().optional(),
        /** Words seen fewer times become [UNK]. */
        minCount: z.number().int().positive().default(1),
      })
      .strict(),
    init: z
      .object({
        /** Start the video encoder from a CLIP/ALBEF model directory's vision tower (relative to the config file). */
        vision: z.string().min(1).optional(),
        /**
         * Fine-tune a Hugging Face GIT captioner folder (relative to the config file): its
         * architecture, weights, tokenizer and processor; the result is a folder of the same type.
         */
        pretrained: z.string().min(1).optional(),
      })
      .strict()
      .default({}),
    loss: z
      .object({ labelSmoothing: z.number().min(0).lt(1).default(0.1) })
      .strict()
      .default({ labelSmoothing: 0.1 }),
    train: trainConfigSchema,
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.init.pretrained === undefined) return;
    // The pretrained folder's config.json is the architecture.
    if (c.model !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['model'], message: 'the architecture comes from init.pretrained: remove the model section' });
    }
    if (c.init.vision !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['init', 'vision'],
        message: 'init.pretrained already holds a vision tower: give one of the two',
      });
    }
  });
export type CaptionerRunConfig = z.output<typeof captionerRunConfigSchema>;
export type CaptionerRunConfigInput = z.input<typeof captionerRunConfigSchema>;

export interface TrainCaptionerResult {
  result: TrainResult;
  /** The model directory written at the end (`<outputDir>/model`). */
  modelDir: string;
  clips: number;
  skipped: Record<string, number>;
}

/** Reads a YAML/JSON run config with `--section.key value` overrides (@tessera/train's `loadConfigFile`) and validates it. */
export async function loadCaptionerRunConfig(file: string, overrides: readonly string[] = []): Promise<CaptionerRunConfig> {
  return parseCaptionerRunConfig(await loadConfigFile(file, overrides), file);
}

/**
 * Validates a captioning run config read from `file` (model and train sections included, so a
 * bad value fails before any clip is read); relative paths (manifest, outputDir, init.vision)
 * resolve against the file's directory.
 */
export function parseCaptionerRunConfig(raw: unknown, file: string): CaptionerRunConfig {
  const config = parseConfig(captionerRunConfigSchema, raw, `captioner config ${file}`);
  parseConfig(captionerConfigSchema, { ...config.model, vocabSize: 1 }, `captioner config ${file}`);
  config.data.manifest = path.resolve(path.dirname(file), config.data.manifest);
  config.train.outputDir = path.resolve(path.dirname(file), config.train.outputDir);
  if (config.init.vision !== undefined) config.init.vision = path.resolve(path.dirname(file), config.init.vision);
  if (config.init.pretrained !== undefined) config.init.pretrained = path.resolve(path.dirname(file), config.init.pretrained);
  return config;
}

/** What a run trains: a fresh Tessera captioner or a loaded pretrained one, its clips and how captions become ids. */
interface RunModel {
  model: CaptionModel;
  ids: CaptionIds;
  clips: CaptionClip[];
  skipped: Record<string, number>;
  /** Longest training caption in ids, start and end tokens included. */
  maxLength: number;
  /** The model's config as checkpoints store it. */
  modelConfig: unknown;
  /** Writes the trained model directory. */
  save(dir: string): Promise<void>;
}

/** A Tessera captioner built from the run's model section, with a vocabulary of the training captions (both languages). */
async function tesseraRun(config: CaptionerRunConfig, resume: boolean, log: Logger): Promise<RunModel> {
  const modelConfig = parseConfig(captionerConfigSchema, { ...config.model, vocabSize: 1 }, 'captioner model config');
  const { clips, skipped } = await loadCaptionSet(config.data.manifest, {
    numFrames: modelConfig.numFrames,
    imageSize: modelConfig.imageSize,
    split: config.data.trainSplit,
    limit: config.data.limit,
  });
  const vocab = CaptionVocab.build(
    clips.flatMap((c) => c.captions.map((x) => x.text)),
    config.data.minCount,
  );
  const model = new Captioner({ ...config.model, vocabSize: vocab.size });
  // A resumed run gets its weights from the checkpoint instead.
  if (config.init.vision !== undefined && !resume) {
    const copied = await initVisionFromClip(model, config.init.vision).catch((error: unknown) => {
      model.dispose();
      throw error;
    });
    log.info(`video encoder: ${copied} tensors from the vision tower of ${config.init.vision}`);
  }
  return {
    model,
    ids: vocab,
    clips,
    skipped,
    maxLength: model.config.maxLength,
    modelConfig: model.config,
    save: (dir) => saveCaptioner(dir, model, vocab),
  };
}

/**
 * A Hugging Face GIT folder to fine-tune: its frames (as many as it reads, through its own
 * processor), captions in the languages it writes, ids from its tokenizer ([CLS] words [SEP]),
 * saved back as a folder of the same type.
 */
async function pretrainedRun(config: CaptionerRunConfig, dir: string): Promise<RunModel> {
  const loaded = await loadPretrainedCaptioner(dir);
  const { model, text } = loaded;
  if (!(model instanceof GitCaptioner)) {
    model.dispose();
    throw new TesseraError('E_CONFIG', `init.pretrained: ${dir} is a ${loaded.kind} captioner; tessera train fine-tunes GIT folders`, {
      details: { path: dir, field: 'init.pretrained' },
    });
  }
  try {
    const { clips, skipped } = await loadCaptionSet(config.data.manifest, {
      numFrames: model.numFrames,
      imageSize: model.imageSize,
      processor: loaded.processor,
      langs: text.langs,
      split: config.data.trainSplit,
      limit: config.data.limit,
    });
    return {
      model,
      ids: { encode: (caption, lang, maxLength) => text.encode(caption, lang, maxLength), padId: model.specialIds.pad },
      clips,
      skipped,
      maxLength: model.config.text.maxPositions,
      modelConfig: model.config,
      save: (out) => savePretrainedCaptioner(out, model, dir),
    };
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/**
 * Trains a captioner with the shared Trainer (AdamW, schedule, clipping, checkpoints under
 * `<outputDir>/checkpoints`, exact resume) on teacher-forced captions in every language of the
 * manifest, then writes the model directory `<outputDir>/model`: a Tessera captioner, or with
 * `init.pretrained` a fine-tuned Hugging Face GIT folder (captions in the languages it writes).
 */
export async function trainCaptioner(
  input: CaptionerRunConfigInput | CaptionerRunConfig,
  options: { resume?: boolean; progress?: boolean; signal?: AbortSignal } = {},
): Promise<TrainCaptionerResult> {
  const config = parseConfig(captionerRunConfigSchema, input, 'captioner run config');
  const log = createLogger('train');
  const run =
    config.init.pretrained !== undefined
      ? await pretrainedRun(config, config.init.pretrained)
      : await tesseraRun(config, options.resume ?? false, log);
  const { model, ids: captionIds, clips, skipped } = run;
  if (Object.keys(skipped).length > 0) log.warn(`skipped clips: ${JSON.stringify(skipped)}`);
  const train: TrainConfig = config.train;
  const source = new CaptionBatchSource(clips, captionIds, {
    batchSize: train.batchSize,
    numFrames: model.numFrames,
    imageSize: model.imageSize,
    maxLength: run.maxLength,
    seed: train.seed,
    keepAlive: train.accumulation,
  });
  const objective = new CaptioningLoss({ padTokenId: captionIds.padId, labelSmoothing: config.loss.labelSmoothing });
  const trainer = new Trainer<CaptionBatch>({
    model,
    config: train,
    source,
    loss: (batch) => {
      const out = tf.tidy(() => {
        const { inputIds, targetIds } = teacherForcing(batch.ids);
        const mask = tf.cast(tf.notEqual(inputIds, captionIds.padId), 'int32');
        const { loss, accuracy } = objective.forward(model.logits(batch.video, inputIds, mask), targetIds);
        return { loss, accuracy };
      });
      return { loss: out.loss, metrics: { token_accuracy: out.accuracy } };
    },
    batchesPerEpoch: source.batchesPerEpoch,
    batchSize: (b) => b.size,
    runConfig: { ...config, model: run.modelConfig },
    progress: options.progress ?? false,
    logger: log,
  });
  let result: TrainResult;
  try {
    result = await trainer.fit({ resume: options.resume ?? false, signal: options.signal });
    await run.save(path.join(train.outputDir, 'model'));
  } finally {
    trainer.dispose();
    source.dispose();
    model.dispose();
  }
  // A resumed run that was already complete ran no step (and has no last loss).
  if (result.losses.length > 0 && !Number.isFinite(result.losses.at(-1) as number)) {
    throw new TesseraError('E_TRAIN_DIVERGED', `training ended with a non-finite loss; lower train.lr (${train.lr})`);
  }
  return { result, modelDir: path.join(train.outputDir, 'model'), clips: clips.length, skipped };
}
