import path from 'node:path';
import { TesseraError } from '@tessera/core';
import type { LoadedCaptioner } from '../captionModel.js';
import { loadBlip } from './blip.js';
import { readHfConfig } from './hfFolder.js';

/** Hugging Face captioner loaders by config.json `model_type`; each file adds its own entry. */
export const PRETRAINED_CAPTIONERS: Readonly<Record<string, (dir: string, hfConfig: Record<string, unknown>) => Promise<LoadedCaptioner>>> =
  {
    blip: loadBlip,
  };

/**
 * Loads a Hugging Face captioner folder (config.json `model_type` blip, ...) for the app, in
 * eval mode; another model_type is E_PRETRAINED_CONFIG listing the captioner types.
 */
export async function loadPretrainedCaptioner(dir: string): Promise<LoadedCaptioner> {
  const hfConfig = await readHfConfig(dir);
  const type = hfConfig.model_type;
  const load = typeof type === 'string' ? PRETRAINED_CAPTIONERS[type] : undefined;
  if (!load) {
    const file = path.join(dir, 'config.json');
    const supported = Object.keys(PRETRAINED_CAPTIONERS).join(', ');
    throw new TesseraError(
      'E_PRETRAINED_CONFIG',
      `${file}: model_type ${JSON.stringify(type)} is not a captioner Tessera reads (supported: ${supported}). Pass a captioner folder, or a Tessera captioner directory.`,
      { details: { path: file, field: 'model_type', supported } },
    );
  }
  return load(dir, hfConfig);
}
