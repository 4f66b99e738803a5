import { stat } from 'node:fs/promises';
import path from 'node:path';
import { TesseraError } from '@tessera/core';
import { SPECIAL_TOKEN_ROLES, type SpecialTokenRole, Tokenizer } from '@tessera/tokenizer';
import { readHfJson } from './hfFolder.js';

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

/** The token string of a special-token entry: `"<s>"` or `{ "content": "<s>", ... }`. */
function tokenString(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string')
    return (value as { content: string }).content;
  return null;
}

/** Whether a folder has any tokenizer file Tessera reads. */
export async function hasHfTokenizer(dir: string): Promise<boolean> {
  for (const f of ['tokenizer.json', 'vocab.json', 'vocab.txt']) if (await exists(path.join(dir, f))) return true;
  return false;
}

/**
 * The tokenizer of a Hugging Face folder: `tokenizer.json`, else `vocab.json` + `merges.txt`
 * (byte-level BPE), else `vocab.txt` (WordPiece, lower-cased unless tokenizer_config.json says
 * `do_lower_case: false`). The special tokens named in tokenizer_config.json and
 * special_tokens_map.json (pad, eos, bos, ...) take their roles. A missing or malformed file is
 * E_PRETRAINED_TOKENIZER naming it.
 */
export async function loadHfTokenizer(dir: string): Promise<Tokenizer> {
  const file = (name: string) => path.join(dir, name);
  const configs: Record<string, unknown>[] = [];
  for (const name of ['tokenizer_config.json', 'special_tokens_map.json']) {
    if (await exists(file(name))) configs.push(await readHfJson(file(name), 'E_PRETRAINED_TOKENIZER', 'the tokenizer settings'));
  }
  const settings = Object.assign({}, ...configs) as Record<string, unknown>;
  let tokenizer: Tokenizer;
  let source: string;
  try {
    if (await exists(file('tokenizer.json'))) {
      source = file('tokenizer.json');
      tokenizer = Tokenizer.fromFile(source);
    } else if ((await exists(file('vocab.json'))) && (await exists(file('merges.txt')))) {
      source = file('vocab.json');
      tokenizer = Tokenizer.fromBpeFiles(source, file('merges.txt'));
    } else if (await exists(file('vocab.txt'))) {
      source = file('vocab.txt');
      tokenizer = Tokenizer.fromBertVocab(source, { lowercase: settings.do_lower_case !== false });
    } else {
      throw new TesseraError(
        'E_PRETRAINED_TOKENIZER',
        `${dir} has no tokenizer: Tessera reads tokenizer.json, or vocab.json + merges.txt, or vocab.txt. Copy the tokenizer files of the model into the folder.`,
        { details: { path: dir } },
      );
    }
  } catch (cause) {
    if (cause instanceof TesseraError && cause.code === 'E_PRETRAINED_TOKENIZER') throw cause;
    throw new TesseraError('E_PRETRAINED_TOKENIZER', `cannot read the tokenizer of ${dir}: ${(cause as Error).message}`, {
      details: { path: dir },
      cause,
    });
  }
  for (const role of SPECIAL_TOKEN_ROLES) {
    const token = tokenString(settings[`${role}_token`]);
    if (token === null) continue;
    try {
      tokenizer.setSpecialToken(role as SpecialTokenRole, token);
    } catch (cause) {
      throw new TesseraError(
        'E_PRETRAINED_TOKENIZER',
        `${source}: ${role}_token '${token}' of the tokenizer settings is not in its vocabulary`,
        {
          details: { path: source, field: `${role}_token` },
          cause,
        },
      );
    }
  }
  return tokenizer;
}
