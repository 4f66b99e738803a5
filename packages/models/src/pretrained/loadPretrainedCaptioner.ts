import path from 'node:path';
import { TesseraError } from '@tessera/core';
import type { CaptionModel, LoadedCaptioner } from '../captionModel.js';
import { blipCaptionerType } from './blip.js';
import { gitCaptionerType } from './git.js';
import { HfCaptionText } from './hfCaptionText.js';
import { readHfConfig } from './hfFolder.js';
import { loadHfProcessor } from './hfProcessor.js';
import { loadHfTokenizer } from './hfTokenizer.js';

/** What each Hugging Face captioner type implements (git.ts; blip.ts). */
export interface PretrainedCaptionerType {
  /** config.json `model_type` values it reads. */
  modelTypes: readonly ('git' | 'blip')[];
  /** Builds the model config.json describes (E_PRETRAINED_CONFIG naming a bad key) and fills it from the folder's weights. */
  load(dir: string, hf: Record<string, unknown>, file: string): Promise<CaptionModel>;
  /** Tessera parameter name -> the folder's tensor name, for `savePretrainedCaptioner` (a type without it cannot be written). */
  toHfName?(name: string): string;
  /** The shape the folder stores a tensor in, where it differs from the parameter's (default the same). */
  hfShape?(hfName: string, shape: readonly number[]): number[];
}

/** The Hugging Face captioner types `loadPretrainedCaptioner` reads: GIT (`model_type: git`) and BLIP (`blip`). */
export const PRETRAINED_CAPTIONERS: readonly PretrainedCaptionerType[] = [gitCaptionerType, blipCaptionerType];

/**
 * Loads a Hugging Face captioner folder (config.json `model_type` git or blip, safetensors,
 * tokenizer, preprocessor_config.json) for the app, in eval mode; nothing is downloaded. An
 * unknown model_type is E_PRETRAINED_CONFIG listing the captioner types.
 */
export async function loadPretrainedCaptioner(dir: string): Promise<LoadedCaptioner> {
  const hf = await readHfConfig(dir);
  const file = path.join(dir, 'config.json');
  const type = PRETRAINED_CAPTIONERS.find((t) => (t.modelTypes as readonly string[]).includes(hf.model_type as string));
  if (!type) {
    const supported = PRETRAINED_CAPTIONERS.flatMap((t) => t.modelTypes).join(', ');
    throw new TesseraError(
      'E_PRETRAINED_CONFIG',
      `${file}: model_type ${JSON.stringify(hf.model_type)} is not a captioner Tessera reads (supported: ${supported})`,
      { details: { path: file, field: 'model_type', supported } },
    );
  }
  const tokenizer = await loadHfTokenizer(dir);
  const processor = await loadHfProcessor(dir);
  const model = await type.load(dir, hf, file);
  model.eval();
  const text = new HfCaptionText(tokenizer, model.specialIds, dir);
  return { model, text, processor, kind: hf.model_type as 'git' | 'blip', dir };
}
