import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { type Module, pathExists, TesseraError, writeFileAtomic } from '@tessera/core';
import { ImageProcessor, type ImageProcessorConfigInput } from '@tessera/patches';
import { Tokenizer } from '@tessera/tokenizer';
import { Captioner } from './captioner.js';
import type { LoadedCaptioner } from './captionModel.js';
import { CaptionVocab } from './captionVocab.js';
import { type CaptionerConfig, captionerConfigSchema, type ModelConfig, parseModelConfig } from './config.js';
import { isHfFolder } from './pretrained/hfFolder.js';
import { loadPretrained } from './pretrained/loadPretrained.js';
import { loadPretrainedCaptioner } from './pretrained/loadPretrainedCaptioner.js';
import { type AnyModel, createModel } from './registry.js';

/**
 * File names inside a model directory (Hugging Face's where one exists). Every model has
 * `config.json` (its config, with the model `type`) and `model.safetensors` (its parameters by
 * name); the other files are the inputs it needs: a `tokenizer.json` and a
 * `preprocessor_config.json` (CLIP, ALBEF), or the caption vocabulary `vocab.json` (captioner).
 */
export const MODEL_FILES = {
  config: 'config.json',
  weights: 'model.safetensors',
  tokenizer: 'tokenizer.json',
  preprocessor: 'preprocessor_config.json',
  vocab: 'vocab.json',
} as const;

/**
 * What `saveModel` writes. Without `processor`, a model with a vision tower gets
 * `defaultProcessorConfig`'s preprocessing; without `tokenizer`, no tokenizer.json is written.
 */
export interface SavedModel {
  model: AnyModel;
  config: ModelConfig;
  tokenizer?: Tokenizer;
  /** The inference preprocessing (resize, crop, normalize) of the model's images. */
  processor?: ImageProcessor;
}

/** A model directory (or Hugging Face folder) loaded by `loadModel`: the model in eval mode, its config and its inputs. */
export interface LoadedModel {
  model: AnyModel;
  config: ModelConfig;
  /** Null when the directory has no tokenizer.json. */
  tokenizer: Tokenizer | null;
  /** Null when the directory has no preprocessor_config.json. */
  processor: ImageProcessor | null;
  /** The directory it was loaded from. */
  dir: string;
}

/** A Tessera captioner directory, loaded: the `LoadedCaptioner` every captioner gives, plus its own model, vocabulary and config. */
export interface LoadedTesseraCaptioner extends LoadedCaptioner {
  model: Captioner;
  text: CaptionVocab;
  vocab: CaptionVocab;
  config: CaptionerConfig;
  kind: 'tessera';
}

/** The preprocessing that matches a config's vision tower: resize + center crop to imageSize, CLIP mean/std. */
export function defaultProcessorConfig(config: { vision: { imageSize: number } }): ImageProcessorConfigInput {
  const s = config.vision.imageSize;
  return { size: { shortest_edge: s }, crop_size: { height: s, width: s }, image_processor_type: 'CLIPImageProcessor' };
}

/**
 * Writes the parts every model directory has, each file atomically: `config.json` (the config
 * as given, which carries `type`), then the named input files, then `model.safetensors` with
 * the type in its metadata.
 */
async function writeModelDirectory(
  dir: string,
  config: { type: string },
  model: Module,
  files: Array<[name: string, text: string]> = [],
): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(path.join(dir, MODEL_FILES.config), `${JSON.stringify(config, null, 2)}\n`);
  for (const [name, text] of files) await writeFileAtomic(path.join(dir, name), text);
  await model.save(path.join(dir, MODEL_FILES.weights), { format: 'pt', tessera_model: config.type });
}

/** Reads a JSON file of a model directory; `holds` says what such a directory holds and what writes it. */
async function readDirectoryJson(file: string, holds: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new TesseraError('E_IO', `cannot read ${file}: ${(cause as Error).message}. ${holds}.`, { details: { path: file }, cause });
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new TesseraError('E_MODEL_FORMAT', `${file} is not valid JSON: ${(cause as Error).message}`, {
      details: { path: file },
      cause,
    });
  }
}

/** Fills a freshly built model from the directory's `model.safetensors` (strict: every weight present, none extra). */
async function loadWeights<M extends Module>(model: M, dir: string): Promise<M> {
  const weights = path.join(dir, MODEL_FILES.weights);
  try {
    if (!(await pathExists(weights)))
      throw new TesseraError('E_IO', `${weights} is missing: the model directory has a config but no weights`, {
        details: { path: weights },
      });
    await model.load(weights, { strict: true });
  } catch (cause) {
    model.dispose();
    throw cause;
  }
  return model;
}

/**
 * Writes a model directory: config.json, model.safetensors, and tokenizer.json and
 * preprocessor_config.json when given. Every file is written atomically.
 */
export async function saveModel(dir: string, saved: SavedModel): Promise<void> {
  const processorConfig = saved.processor?.config ?? ('vision' in saved.config ? defaultProcessorConfig(saved.config) : null);
  const files: Array<[string, string]> = processorConfig
    ? [[MODEL_FILES.preprocessor, `${JSON.stringify(processorConfig, null, 2)}\n`]]
    : [];
  await writeModelDirectory(dir, saved.config, saved.model, files);
  if (saved.tokenizer) await saved.tokenizer.save(path.join(dir, MODEL_FILES.tokenizer));
}

/**
 * Reloads a directory written by `saveModel` (or a trainer run's export) in one call; a
 * Hugging Face folder (config.json with `model_type`) goes through `loadPretrained`.
 */
export async function loadModel(dir: string): Promise<LoadedModel> {
  if (await isHfFolder(dir)) {
    const { model, config, tokenizer, processor } = await loadPretrained(dir);
    return { model, config, tokenizer, processor, dir };
  }
  const raw = await readDirectoryJson(
    path.join(dir, MODEL_FILES.config),
    'A model directory holds config.json and model.safetensors (written by saveModel or `tessera train`)',
  );
  const config = parseModelConfig(raw);
  const { model } = createModel(config);
  await loadWeights(model, dir);
  // Loaded for inference, as loadPretrained: dropout off (the trainer switches to train()).
  model.eval();
  const tokenizerPath = path.join(dir, MODEL_FILES.tokenizer);
  const tokenizer = (await pathExists(tokenizerPath)) ? Tokenizer.fromFile(tokenizerPath) : null;
  const processorPath = path.join(dir, MODEL_FILES.preprocessor);
  const processor = (await pathExists(processorPath)) ? await ImageProcessor.fromFile(processorPath) : null;
  return { model, config, tokenizer, processor, dir };
}

/** Writes a captioner directory: config.json (`type: "captioner"`), vocab.json, model.safetensors; each atomically. */
export async function saveCaptioner(dir: string, model: Captioner, vocab: CaptionVocab): Promise<void> {
  if (vocab.size !== model.config.vocabSize) {
    throw new TesseraError('E_CONFIG', `saveCaptioner: vocabulary has ${vocab.size} tokens, the model ${model.config.vocabSize}`);
  }
  await writeModelDirectory(dir, { type: 'captioner', ...model.config }, model, [
    [MODEL_FILES.vocab, `${JSON.stringify(vocab.toJson())}\n`],
  ]);
}

/** The frame preprocessing of a Tessera captioner: resize the short side and centre-crop to `size` (bilinear), CLIP normalisation. */
export function captionerProcessor(size: number): ImageProcessor {
  return new ImageProcessor({ size: { shortest_edge: size }, crop_size: { height: size, width: size }, resample: 2 });
}

/**
 * Loads any captioner directory for the app: a Tessera one (written by `saveCaptioner` or
 * `tessera train` with `task: captioning`) or a Hugging Face GIT/BLIP folder (config.json with
 * `model_type`), in one shape.
 */
export async function loadCaptioner(dir: string): Promise<LoadedCaptioner> {
  if (await isHfFolder(dir)) return loadPretrainedCaptioner(dir);
  return loadTesseraCaptioner(dir);
}

/** Reloads a directory written by `saveCaptioner` (or `tessera train` with a `task: captioning` config). */
export async function loadTesseraCaptioner(dir: string): Promise<LoadedTesseraCaptioner> {
  const holds =
    'A captioner directory holds config.json, vocab.json and model.safetensors (written by saveCaptioner or by tessera train with a task: captioning config)';
  const raw = (await readDirectoryJson(path.join(dir, MODEL_FILES.config), holds)) as Record<string, unknown>;
  if (raw?.type !== 'captioner') {
    throw new TesseraError('E_MODEL_FORMAT', `${dir} is not a captioner directory (config.json type is ${JSON.stringify(raw?.type)})`);
  }
  const { type: _t, ...rest } = raw;
  const config = captionerConfigSchema.safeParse(rest);
  if (!config.success) throw new TesseraError('E_CONFIG', `${dir}/config.json: ${config.error.message}`);
  const vocab = CaptionVocab.fromJson(await readDirectoryJson(path.join(dir, MODEL_FILES.vocab), holds));
  const model = await loadWeights(new Captioner(config.data), dir);
  return { model, text: vocab, vocab, config: model.config, processor: captionerProcessor(model.config.imageSize), kind: 'tessera', dir };
}
