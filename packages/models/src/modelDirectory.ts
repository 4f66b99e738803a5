import { mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { TesseraError, writeFileAtomic } from '@tessera/core';
import { ImageProcessor, type ImageProcessorConfigInput } from '@tessera/patches';
import { Tokenizer } from '@tessera/tokenizer';
import { type ModelConfig, parseModelConfig } from './config.js';
import { type AnyModel, createModel } from './registry.js';

/** File names inside a model directory (Hugging Face's where one exists). */
export const MODEL_FILES = {
  config: 'config.json',
  weights: 'model.safetensors',
  tokenizer: 'tokenizer.json',
  preprocessor: 'preprocessor_config.json',
} as const;

export interface SavedModel {
  model: AnyModel;
  config: ModelConfig;
  tokenizer?: Tokenizer;
  /** The inference preprocessing (resize, crop, normalize) of the model's images. */
  processor?: ImageProcessor;
}

export interface LoadedModel {
  model: AnyModel;
  config: ModelConfig;
  /** Null when the directory has no tokenizer.json. */
  tokenizer: Tokenizer | null;
  /** Null when the directory has no preprocessor_config.json. */
  processor: ImageProcessor | null;
  dir: string;
}

/** The preprocessing that matches a config's vision tower: resize + center crop to imageSize, CLIP mean/std. */
export function defaultProcessorConfig(config: ModelConfig): ImageProcessorConfigInput {
  const s = config.vision.imageSize;
  return { size: { shortest_edge: s }, crop_size: { height: s, width: s }, image_processor_type: 'CLIPImageProcessor' };
}

/**
 * Writes a model directory: config.json, model.safetensors, and tokenizer.json and
 * preprocessor_config.json when given. Every file is written atomically.
 */
export async function saveModel(dir: string, saved: SavedModel): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(path.join(dir, MODEL_FILES.config), `${JSON.stringify(saved.config, null, 2)}\n`);
  await saved.model.save(path.join(dir, MODEL_FILES.weights), { format: 'pt', tessera_model: saved.config.type });
  if (saved.tokenizer) await saved.tokenizer.save(path.join(dir, MODEL_FILES.tokenizer));
  const processorConfig = saved.processor ? saved.processor.config : defaultProcessorConfig(saved.config);
  await writeFileAtomic(path.join(dir, MODEL_FILES.preprocessor), `${JSON.stringify(processorConfig, null, 2)}\n`);
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

/** Reloads a directory written by `saveModel` (or a trainer run's export) in one call. */
export async function loadModel(dir: string): Promise<LoadedModel> {
  const configPath = path.join(dir, MODEL_FILES.config);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(configPath, 'utf8'));
  } catch (cause) {
    throw new TesseraError(
      'E_IO',
      `cannot read ${configPath}: ${(cause as Error).message}. A model directory holds config.json and model.safetensors (written by saveModel or \`tessera train\`).`,
      { details: { path: configPath }, cause },
    );
  }
  const config = parseModelConfig(raw);
  const weights = path.join(dir, MODEL_FILES.weights);
  if (!(await exists(weights)))
    throw new TesseraError('E_IO', `${weights} is missing: the model directory has a config but no weights`, {
      details: { path: weights },
    });
  const { model } = createModel(config);
  try {
    await model.load(weights, { strict: true });
  } catch (cause) {
    model.dispose();
    throw cause;
  }
  const tokenizerPath = path.join(dir, MODEL_FILES.tokenizer);
  const tokenizer = (await exists(tokenizerPath)) ? Tokenizer.fromFile(tokenizerPath) : null;
  const processorPath = path.join(dir, MODEL_FILES.preprocessor);
  const processor = (await exists(processorPath)) ? await ImageProcessor.fromFile(processorPath) : null;
  return { model, config, tokenizer, processor, dir };
}
