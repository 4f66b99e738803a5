import path from 'node:path';
import { createLogger, parseConfig, TesseraError, tf } from '@tessera/core';
import { Captioner, CaptionVocab, captionerBaseSchema, captionerConfigSchema, saveCaptioner } from '@tessera/models';
import { CaptioningLoss, teacherForcing } from '@tessera/objectives';
import { loadConfigFile, type TrainConfig, Trainer, type TrainResult, trainConfigSchema } from '@tessera/train';
import { z } from 'zod';
import { type CaptionBatch, CaptionBatchSource, loadCaptionSet } from './captionDataset.js';
import { initVisionFromClip } from './visionInit.js';

/** A captioning run's config (`datasets/moving-emoji/captioner-tiny.yaml`). */
export const captionerRunConfigSchema = z
  .object({
    task: z.literal('captioning').default('captioning'),
    /** The captioner's architecture; vocabSize comes from the training captions. */
    model: captionerBaseSchema.omit({ vocabSize: true }).partial().default({}),
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
    /** Start the video encoder from a CLIP/ALBEF model directory's vision tower (relative to the config file). */
    init: z
      .object({ vision: z.string().min(1).optional() })
      .strict()
      .default({}),
    loss: z
      .object({ labelSmoothing: z.number().min(0).lt(1).default(0.1) })
      .strict()
      .default({ labelSmoothing: 0.1 }),
    train: trainConfigSchema,
  })
  .strict();
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
  return config;
}

/**
 * Trains a captioner with the shared Trainer (AdamW, schedule, clipping, checkpoints under
 * `<outputDir>/checkpoints`, exact resume) on teacher-forced captions in every language of the
 * manifest, then writes the model directory `<outputDir>/model`.
 */
export async function trainCaptioner(
  input: CaptionerRunConfigInput | CaptionerRunConfig,
  options: { resume?: boolean; progress?: boolean; signal?: AbortSignal } = {},
): Promise<TrainCaptionerResult> {
  const config = parseConfig(captionerRunConfigSchema, input, 'captioner run config');
  const log = createLogger('train');
  const modelConfig = parseConfig(captionerConfigSchema, { ...config.model, vocabSize: 1 }, 'captioner model config');
  const { clips, skipped } = await loadCaptionSet(config.data.manifest, {
    numFrames: modelConfig.numFrames,
    imageSize: modelConfig.imageSize,
    split: config.data.trainSplit,
    limit: config.data.limit,
  });
  if (Object.keys(skipped).length > 0) log.warn(`skipped clips: ${JSON.stringify(skipped)}`);
  const vocab = CaptionVocab.build(
    clips.flatMap((c) => c.captions.map((x) => x.text)),
    config.data.minCount,
  );
  const model = new Captioner({ ...config.model, vocabSize: vocab.size });
  // A resumed run gets its weights from the checkpoint instead.
  if (config.init.vision !== undefined && !options.resume) {
    const copied = await initVisionFromClip(model, config.init.vision).catch((error: unknown) => {
      model.dispose();
      throw error;
    });
    log.info(`video encoder: ${copied} tensors from the vision tower of ${config.init.vision}`);
  }
  const train: TrainConfig = config.train;
  const source = new CaptionBatchSource(clips, vocab, {
    batchSize: train.batchSize,
    numFrames: model.config.numFrames,
    imageSize: model.config.imageSize,
    maxLength: model.config.maxLength,
    seed: train.seed,
    keepAlive: train.accumulation,
  });
  const objective = new CaptioningLoss({ padTokenId: vocab.padId, labelSmoothing: config.loss.labelSmoothing });
  const trainer = new Trainer<CaptionBatch>({
    model,
    config: train,
    source,
    loss: (batch) => {
      const out = tf.tidy(() => {
        const { inputIds, targetIds } = teacherForcing(batch.ids);
        const mask = tf.cast(tf.notEqual(inputIds, vocab.padId), 'int32');
        const { loss, accuracy } = objective.forward(model.forward(batch.video, inputIds, mask), targetIds);
        return { loss, accuracy };
      });
      return { loss: out.loss, metrics: { token_accuracy: out.accuracy } };
    },
    batchesPerEpoch: source.batchesPerEpoch,
    batchSize: (b) => b.size,
    runConfig: { ...config, model: model.config },
    progress: options.progress ?? false,
    logger: log,
  });
  let result: TrainResult;
  try {
    result = await trainer.fit({ resume: options.resume ?? false, signal: options.signal });
  } finally {
    trainer.dispose();
    source.dispose();
  }
  const modelDir = path.join(train.outputDir, 'model');
  await saveCaptioner(modelDir, model, vocab);
  model.dispose();
  // A resumed run that was already complete ran no step (and has no last loss).
  if (result.losses.length > 0 && !Number.isFinite(result.losses.at(-1) as number)) {
    throw new TesseraError('E_TRAIN_DIVERGED', `training ended with a non-finite loss; lower train.lr (${train.lr})`);
  }
  return { result, modelDir, clips: clips.length, skipped };
}
