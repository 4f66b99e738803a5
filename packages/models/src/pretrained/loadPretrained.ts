import path from 'node:path';
import { TesseraError } from '@tessera/core';
import type { ImageProcessor } from '@tessera/patches';
import type { Tokenizer } from '@tessera/tokenizer';
import type { ModelConfig } from '../config.js';
import { type AnyModel, createModel } from '../registry.js';
import { bert } from './bert.js';
import { chineseClip } from './chineseClip.js';
import { clip } from './clip.js';
import { readHfConfig } from './hfFolder.js';
import { loadHfProcessor } from './hfProcessor.js';
import { loadHfTokenizer } from './hfTokenizer.js';
import { loadHfWeights } from './hfWeights.js';
import type { PretrainedType } from './pretrainedType.js';
import { siglip } from './siglip.js';

/** Every supported Hugging Face type; each file adds its own entry. */
export const PRETRAINED_TYPES: readonly PretrainedType[] = [clip, siglip, chineseClip, bert];

/** The type that reads `model_type`, or E_PRETRAINED_CONFIG listing the supported ones. */
export function pretrainedTypeFor(modelType: unknown, file: string): PretrainedType {
  const type = PRETRAINED_TYPES.find((t) => t.modelTypes.includes(modelType as string));
  if (!type) {
    const supported = PRETRAINED_TYPES.flatMap((t) => t.modelTypes).join(', ');
    throw new TesseraError(
      'E_PRETRAINED_CONFIG',
      `${file}: model_type ${JSON.stringify(modelType)} is not supported (supported: ${supported})`,
      {
        details: { path: file, field: 'model_type', supported },
      },
    );
  }
  return type;
}

/**
 * A Hugging Face folder loaded by `loadPretrained`: the model in eval mode, its Tessera config,
 * the tokenizer (truncating at the position table unless tokenizer.json sets its own) and the
 * image processor.
 */
export interface LoadedPretrained {
  model: AnyModel;
  /** The Tessera config it maps to: createModel, training, checkpoints and resume take it as is. */
  config: ModelConfig;
  /** Null for a vision tower alone. */
  tokenizer: Tokenizer | null;
  /** Null for a text tower alone. */
  processor: ImageProcessor | null;
  /** The folder's config.json. */
  hfConfig: Record<string, unknown>;
  /** The folder it was loaded from. */
  dir: string;
}

/**
 * Loads a Hugging Face model folder (config.json with `model_type`, safetensors weights,
 * tokenizer and preprocessor files) as a Tessera model in eval mode. Nothing is downloaded.
 */
export async function loadPretrained(dir: string): Promise<LoadedPretrained> {
  const hfConfig = await readHfConfig(dir);
  const file = path.join(dir, 'config.json');
  const type = pretrainedTypeFor(hfConfig.model_type, file);
  const config = type.fromHfConfig(hfConfig, file);
  const tokenizer = 'text' in config ? await loadHfTokenizer(dir) : null;
  const processor = 'vision' in config ? await loadHfProcessor(dir) : null;
  const { model } = createModel(config);
  try {
    await loadHfWeights(model, dir, type);
  } catch (cause) {
    model.dispose();
    throw cause;
  }
  model.eval();
  // Texts are cut at the position table, as transformers' tokenizers cut at model_max_length.
  if (tokenizer && 'text' in config && !tokenizer.settings.truncation) tokenizer.setTruncation({ maxLength: config.text.maxPositions });
  return { model, config, tokenizer, processor, hfConfig, dir };
}
