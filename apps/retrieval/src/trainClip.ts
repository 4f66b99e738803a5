import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { createLogger, type Logger, progress, TesseraError, tf, writeFileAtomic } from '@tessera/core';
import { countShardSamples, type DataRecord, readManifest, readShard, resolveShards, SkipCounter, splitShards } from '@tessera/data';
import { type ClipConfig, createModel, DualEncoder, defaultProcessorConfig, loadModel, padTokenId, saveModel } from '@tessera/models';
import { ImageProcessor } from '@tessera/patches';
import { Tokenizer, trainTokenizer, trainWordPieceTokenizer } from '@tessera/tokenizer';
import { parseTrainConfig, type TrainConfigInput, Trainer, type TrainResult, valueAndGrads } from '@tessera/train';
import { type ContrastiveBatch, ContrastiveSource } from './contrastiveSource.js';
import { evaluateRetrieval, type RetrievalReport } from './evaluateRetrieval.js';
import { type PreparedPair, preparePair, preparePairs } from './pairs.js';
import { parseRunConfig, type RunConfig, type RunConfigInput } from './runConfig.js';

export interface TrainClipOptions {
  /** Directory that relative paths in the config are resolved against. */
  baseDir?: string;
  resume?: boolean;
  signal?: AbortSignal;
  logger?: Logger;
  /** Show progress bars (default true). */
  progress?: boolean;
}

export interface TrainClipResult {
  result: TrainResult;
  /** Retrieval on data.eval after training, per language (absent without data.eval). */
  report: RetrievalReport | null;
  exportDir: string;
  steps: number;
  trainSeconds: number;
  samplesPerSecond: number;
  parameters: number;
}

/** The records of a manifest or of WebDataset shards, with what was skipped reading them. */
interface ReadRecords {
  records: DataRecord[];
  skipped: Record<string, number>;
}

async function readManifestRecords(file: string, config: RunConfig): Promise<ReadRecords> {
  const manifest = await readManifest(file, { imageKey: config.data.imageKey, captionKey: config.data.captionKey });
  return { records: manifest.records, skipped: manifest.skipped.counts() };
}

/** The run's shards: all of them, this rank's, and how many samples this rank's hold. */
interface ShardSet {
  all: string[];
  mine: string[];
  samples: number;
}

/**
 * Resolves `data.shards` (local specs relative to the config, URLs as they are), keeps this
 * rank's (`splitShards`), and sizes the epoch from img2dataset's `_stats.json` files, reading
 * the shards that have none (and saying so).
 */
async function openShards(config: RunConfig, resolve: (p: string) => string, log: Logger): Promise<ShardSet> {
  const spec = config.data.shards as string;
  const all = await resolveShards(/^[a-z]+:\/\//i.test(spec) ? spec : resolve(spec));
  const { rank = 0, worldSize = 1 } = config.data;
  const mine = splitShards(all, { rank, worldSize });
  const count = await countShardSamples(mine);
  const shards = (n: number) => `${n} shard${n === 1 ? '' : 's'}`;
  const of = worldSize > 1 ? ` (rank ${rank} of ${worldSize}: ${mine.length} of ${all.length} shards)` : '';
  log.info(
    count.counted === 0
      ? `epoch: ${count.samples} samples in ${shards(mine.length)}${of}, from their _stats.json`
      : `epoch: ${count.samples} samples in ${shards(mine.length)}${of}; ${shards(count.counted)} without a _stats.json counted by reading them`,
  );
  return { all, mine, samples: count.samples };
}

/** Every caption of the shards, read as they stream (for training a tokenizer; images are not kept). */
async function shardCaptions(shards: readonly string[]): Promise<string[]> {
  const texts: string[] = [];
  const skips = new SkipCounter();
  for (const shard of shards) for await (const record of readShard(shard, skips)) texts.push(...record.captions.map((c) => c.text));
  return texts;
}

async function loadPairs(
  read: ReadRecords,
  where: string,
  config: RunConfig,
  tokenizer: Tokenizer,
  label: string,
  show: boolean,
): Promise<{ pairs: PreparedPair[]; skipped: Record<string, number> }> {
  const bar = show ? progress({ label, total: read.records.length, unit: 'image' }) : null;
  const { pairs, skipped } = await preparePairs(read.records, tokenizer, config.data.maxTextLength, () => bar?.tick(1));
  bar?.stop();
  const bad: Record<string, number> = { ...read.skipped, ...skipped };
  const total = Object.values(bad).reduce((s, v) => s + v, 0);
  if (total > 0) createLogger('data').warn(`${where}: skipped ${total} records (${JSON.stringify(bad)})`);
  return { pairs, skipped: bad };
}

/**
 * Trains a CLIP dual encoder on a manifest of text-image pairs (decoded up front) or on
 * WebDataset shards (streamed: this rank's shards through a shuffle buffer) with the Trainer (AdamW,
 * schedule, checkpoints, metrics), scores retrieval on `data.eval`, and exports a model
 * directory that `loadModel` (and the retrieval app) reads.
 */
export async function trainClip(input: RunConfigInput | RunConfig, options: TrainClipOptions = {}): Promise<TrainClipResult> {
  // Every field is checked before any data work (tokenizer training, image decoding).
  const config = parseRunConfig(input);
  const log = options.logger ?? createLogger('train');
  const show = options.progress ?? true;
  const base = options.baseDir ?? process.cwd();
  const resolve = (p: string) => path.resolve(base, p);
  const outputDir = resolve(config.train.outputDir);
  await mkdir(outputDir, { recursive: true });

  // A pretrained start is opened first: its architecture and files are checked before any data work.
  const initial = config.init ? await openInit(resolve(config.init), config.data.maxTextLength) : null;

  // Shards are streamed while training; a manifest is read and decoded up front.
  const shardSet = config.data.shards ? await openShards(config, resolve, log) : null;
  const trainWhere = config.data.shards ?? resolve(config.data.train as string);
  const trainRead = shardSet ? null : await readManifestRecords(trainWhere, config);
  // Tokenizer: the initial model's, given, or built from the training captions (and saved for resume and export).
  let tokenizer: Tokenizer;
  if (initial) tokenizer = initial.tokenizer;
  else if (config.tokenizer.path) tokenizer = Tokenizer.fromFile(resolve(config.tokenizer.path));
  else {
    // Every rank trains the tokenizer on all shards, so that the ranks agree on it.
    const texts = trainRead ? trainRead.records.flatMap((r) => r.captions.map((c) => c.text)) : await shardCaptions(shardSet?.all ?? []);
    const { type, vocabSize, minFrequency } = config.tokenizer;
    tokenizer =
      type === 'words'
        ? trainWordPieceTokenizer(texts, { vocabSize, minFrequency })
        : await trainTokenizer(texts, { type, vocabSize, minFrequency });
    log.info(`tokenizer: ${type}, ${tokenizer.vocabSize} tokens from ${texts.length} training captions`);
  }
  // Saved with the run's caption limit, so evaluation and apps cut captions the same way.
  tokenizer.setTruncation({ maxLength: config.data.maxTextLength });
  await tokenizer.save(path.join(outputDir, 'tokenizer.json'));

  // The run config admits only CLIP models whose text fits data.maxTextLength.
  const created =
    initial ??
    createModel(config.model as NonNullable<RunConfig['model']>, {
      vocabSize: tokenizer.vocabSize,
      // An EOS-pooled text tower pools the tokenizer's end token ([SEP] for the WordPiece ones).
      eosTokenId: (tokenizer.specialTokens.eos ?? tokenizer.specialTokens.sep)?.id,
    });
  const model = created.model as DualEncoder;
  // A CLIP-type config: the run config admits only those, and openInit checks the folder's.
  const modelConfig = created.config as ClipConfig;
  const processor = initial?.processor ?? new ImageProcessor(defaultProcessorConfig(modelConfig));
  const train = trainRead ? await loadPairs(trainRead, trainWhere, config, tokenizer, 'prepare train', show) : null;
  const evalFile = config.data.eval ? resolve(config.data.eval) : null;
  const evalPairs = evalFile
    ? (await loadPairs(await readManifestRecords(evalFile, config), evalFile, config, tokenizer, 'prepare eval', show)).pairs
    : null;
  log.info(
    `model ${modelConfig.name ?? modelConfig.type}: ${model.parameterCount().toLocaleString('en-US')} parameters; ${train ? `${train.pairs.length} training pairs` : `${shardSet?.samples} training samples streamed from shards`}`,
  );

  const maxLength = config.data.maxTextLength;
  const source = new ContrastiveSource({
    ...(shardSet
      ? {
          stream: {
            shards: shardSet.mine,
            prepare: (record: DataRecord) => preparePair(record, tokenizer, maxLength),
            samplesPerEpoch: shardSet.samples,
            shuffleBuffer: config.data.shuffleBuffer,
          },
        }
      : { pairs: train?.pairs, skipped: train?.skipped }),
    processor,
    imageSize: modelConfig.vision.imageSize,
    batchSize: config.train.batchSize,
    languages: config.data.languages,
    augment: config.data.augment === false ? null : config.data.augment,
    padId: padTokenId(tokenizer),
    seed: config.train.seed,
    keepAlive: config.train.accumulation,
  });

  const lossFn = (batch: ContrastiveBatch) => {
    const out = model.forward(batch);
    return {
      loss: out.loss,
      metrics: {
        loss_i2t: out.lossImageToText,
        loss_t2i: out.lossTextToImage,
        logit_scale: out.logitScale,
        acc_i2t: out.metrics.accuracyImageToText,
        acc_t2i: out.metrics.accuracyTextToImage,
        pos_sim: out.metrics.positiveSimilarity,
        neg_sim: out.metrics.negativeSimilarity,
      },
    };
  };

  // A time budget fixes the step count from the measured speed of two steps, data included
  // (after one warm-up), so the LR schedule runs to its end; a resumed run keeps its count.
  const runFile = path.join(outputDir, 'run.json');
  let trainSection: TrainConfigInput = { ...config.train, outputDir };
  if (config.budget !== undefined) {
    let steps: number | undefined;
    if (options.resume)
      steps = (JSON.parse(await readFile(runFile, 'utf8').catch(() => '{}')) as { train?: { steps?: number } }).train?.steps;
    if (steps === undefined) {
      const params = new Map([...model.namedParameters()].filter(([, p]) => p.trainable).map(([n, p]) => [n, p.variable]));
      let seconds = 0;
      for (let i = 0; i < 3; i++) {
        const start = performance.now();
        const batch = (await source.next()) as ContrastiveBatch;
        const { value, grads } = valueAndGrads(() => {
          const out = lossFn(batch);
          tf.dispose(Object.values(out.metrics));
          return out.loss;
        }, params);
        tf.dispose([value, ...grads.values()]);
        if (i > 0) seconds += (performance.now() - start) / 1000;
      }
      source.restore({ epoch: 0, position: 0 });
      // The first steps run a little slower than the rest (heap growth, JIT), which about
      // covers the optimizer update and metrics; the deadline below bounds a slower machine.
      steps = Math.max(10, Math.floor((config.budget.minutes * 60) / (seconds / 2)));
      log.info(`budget ${config.budget.minutes} min at ~${(seconds / 2).toFixed(2)} s/step: ${steps} steps`);
    }
    const { epochs: _epochs, ...withoutEpochs } = trainSection;
    trainSection = { ...withoutEpochs, steps };
  }
  const trainConfig = parseTrainConfig(trainSection);
  await writeFileAtomic(runFile, `${JSON.stringify({ ...config, train: trainConfig }, null, 2)}\n`);

  const scoreRetrieval = evalPairs
    ? () =>
        evaluateRetrieval({
          model,
          tokenizer,
          processor,
          pairs: evalPairs,
          languages: config.data.languages,
          maxLength: config.data.maxTextLength,
          captions: config.data.evalCaptions,
        })
    : null;
  const evaluate = scoreRetrieval
    ? () => {
        const report = scoreRetrieval();
        const flat: Record<string, number> = {};
        for (const [lang, m] of Object.entries(report)) {
          flat[`${lang}/t2i_r1`] = m.textToImage.r1;
          flat[`${lang}/t2i_r10`] = m.textToImage.r10;
          flat[`${lang}/i2t_r1`] = m.imageToText.r1;
        }
        return flat;
      }
    : undefined;
  const trainer = new Trainer<ContrastiveBatch>({
    model,
    config: trainConfig,
    source,
    loss: lossFn,
    evaluate,
    batchesPerEpoch: source.batchesPerEpoch,
    batchSize: (b) => b.size,
    runConfig: { ...config, train: trainConfig },
    progress: show,
    logger: log,
  });
  const started = performance.now();
  let result: TrainResult;
  try {
    // A budget is also a deadline: if the machine slows down after the speed was measured,
    // stop at 1.25x the budget (the checkpoint is saved; --resume finishes the schedule).
    const signals = [options.signal, config.budget ? AbortSignal.timeout(config.budget.minutes * 75_000) : undefined].filter(
      (s): s is AbortSignal => s !== undefined,
    );
    const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
    result = await trainer.fit({ resume: options.resume ?? false, signal });
  } finally {
    trainer.dispose();
    source.dispose();
  }
  const trainSeconds = (performance.now() - started) / 1000;
  const exportDir = config.exportDir ? resolve(config.exportDir) : path.join(outputDir, 'model');
  await saveModel(exportDir, { model, config: modelConfig, tokenizer, processor });
  const report = scoreRetrieval ? scoreRetrieval() : null;
  if (report) await writeFileAtomic(path.join(exportDir, 'eval.json'), `${JSON.stringify(stripRanks(report), null, 2)}\n`);
  const parameters = model.parameterCount();
  model.dispose();
  return { result, report, exportDir, steps: result.step, trainSeconds, samplesPerSecond: result.samples / trainSeconds, parameters };
}

/**
 * Opens the model a run starts from (`init`): a Hugging Face folder or a Tessera model
 * directory holding a dual encoder with its tokenizer, whose text fits the run's captions.
 */
async function openInit(dir: string, maxTextLength: number) {
  const loaded = await loadModel(dir);
  const fail = (message: string): never => {
    loaded.model.dispose();
    throw new TesseraError('E_CONFIG', `init ${dir}: ${message}`, { details: { path: dir } });
  };
  if (!(loaded.model instanceof DualEncoder) || loaded.config.type !== 'clip')
    return fail('training continues a dual encoder (CLIP, Chinese-CLIP, SigLIP); this folder holds another kind of model');
  if (!loaded.tokenizer) return fail('the folder has no tokenizer; training needs the one the model was trained with');
  if (loaded.config.text.maxPositions < maxTextLength)
    return fail(`data.maxTextLength ${maxTextLength} exceeds the model's ${loaded.config.text.maxPositions} text positions`);
  return { model: loaded.model, config: loaded.config, tokenizer: loaded.tokenizer, processor: loaded.processor };
}

/** The report without per-query rank lists (for JSON output). */
export function stripRanks(report: RetrievalReport): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(report).map(([lang, m]) => {
      const { ranks: _a, ...t2i } = m.textToImage;
      const { ranks: _b, ...i2t } = m.imageToText;
      return [lang, { texts: m.texts, images: m.images, textToImage: t2i, imageToText: i2t }];
    }),
  );
}
