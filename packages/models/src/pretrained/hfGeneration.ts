import { stat } from 'node:fs/promises';
import path from 'node:path';
import { readHfJson } from './hfFolder.js';
import { HfConfigReader } from './pretrainedType.js';

/** transformers 5's length when neither the call nor the checkpoint sets one: 20 new tokens. */
export const HF_DEFAULT_NEW_TOKENS = 20;

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

/**
 * The caption length transformers' `generate` uses by default for a folder, in new tokens
 * (generation/utils.py `_prepare_generated_length`): generation_config.json's `max_new_tokens`,
 * else its `max_length` less the prompt, else 20 new tokens with prompt plus caption capped at
 * the decoder's position table. A malformed file is E_PRETRAINED_CONFIG naming it.
 */
export async function hfDefaultNewTokens(dir: string, promptLength: number, maxPositions: number): Promise<number> {
  const file = path.join(dir, 'generation_config.json');
  if (await exists(file)) {
    const r = new HfConfigReader(await readHfJson(file, 'E_PRETRAINED_CONFIG', 'the generation settings'), file);
    if (r.hf.max_new_tokens != null) return r.int('max_new_tokens');
    if (r.hf.max_length != null) return Math.max(1, r.int('max_length') - promptLength);
  }
  return Math.max(1, Math.min(promptLength + HF_DEFAULT_NEW_TOKENS, maxPositions) - promptLength);
}
