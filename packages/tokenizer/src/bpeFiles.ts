import { TesseraError } from '@tessera/core';
import { specialToken } from './addedVocabulary.js';
import { ByteLevelDecoder } from './decoders/decoders.js';
import { asObject } from './json.js';
import type { BPE } from './models/bpe.js';
import { modelFromJSON } from './models/fromJSON.js';
import { ByteLevelProcessing } from './postProcessors/byteLevel.js';
import { ByteLevelPreTokenizer } from './preTokenizers/byteLevel.js';
import { readText } from './readText.js';
import type { TokenizerParts } from './tokenizer.js';

export interface BpeFilesOptions {
  /** Add a space before the first word (RoBERTa); default false, as GPT-2. */
  addPrefixSpace?: boolean;
  /** Tokens of the vocabulary that become special added tokens; default ['<|endoftext|>']. */
  specialTokens?: string[];
}

/**
 * The stages of a GPT-2-style byte-level BPE tokenizer from `vocab.json` (token -> id) and
 * `merges.txt`, given as paths. `specialTokens` found in the vocabulary become special added tokens.
 */
export function bpeFilesParts(vocabPath: string, mergesPath: string, options: BpeFilesOptions = {}): TokenizerParts {
  let vocabJson: unknown;
  try {
    vocabJson = JSON.parse(readText(vocabPath));
  } catch (e) {
    if (e instanceof TesseraError) throw e;
    throw new TesseraError('E_TOKENIZER_JSON', `${vocabPath} is not JSON: ${(e as Error).message}`, { details: { path: vocabPath } });
  }
  const vocab = asObject(vocabJson, 'vocab.json');
  const merges = readText(mergesPath)
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l, i) => l.length > 0 && !(i === 0 && l.startsWith('#version')));
  const model = modelFromJSON({ type: 'BPE', vocab, merges }, 'model') as BPE;
  const specials = (options.specialTokens ?? ['<|endoftext|>']).filter((t) => model.tokenToId(t) !== undefined);
  const addPrefixSpace = options.addPrefixSpace ?? false;
  return {
    model,
    preTokenizer: new ByteLevelPreTokenizer(addPrefixSpace, true, true),
    postProcessor: new ByteLevelProcessing(false, addPrefixSpace),
    decoder: new ByteLevelDecoder(),
    addedTokens: specials.map((t) => ({ ...specialToken(t, model.tokenToId(t)!), normalized: true })),
  };
}
