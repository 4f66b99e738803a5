import { TesseraError } from '@tessera/base';
import { readText } from '#files';
import { specialToken } from './addedVocabulary.js';
import { WordPieceDecoder } from './decoders/decoders.js';
import { WordPiece } from './models/wordPiece.js';
import { BertNormalizer } from './normalizers/bertNormalizer.js';
import { BertProcessing } from './postProcessors/template.js';
import { BertPreTokenizer } from './preTokenizers/basic.js';
import type { TokenizerParts } from './tokenizer.js';

/** Options of `Tokenizer.fromBertVocab`. */
export interface BertVocabOptions {
  /** Lowercase in the BERT normalizer (uncased models); default true. */
  lowercase?: boolean;
}

/**
 * The stages of a bert-base-style tokenizer from a WordPiece `vocab.txt` (a path, or its lines):
 * BERT normalizer, BERT pre-tokenizer, `[CLS] A [SEP]`, WordPiece decoder; the [PAD], [UNK],
 * [CLS], [SEP] and [MASK] found in the vocabulary become special added tokens.
 */
export function bertVocabParts(vocab: string | string[], options: BertVocabOptions = {}): TokenizerParts {
  const lines = Array.isArray(vocab) ? vocab : readText(vocab, 'vocab.txt').split('\n');
  const map = new Map<string, number>();
  for (const line of lines) {
    const token = line.replace(/\r$/, '');
    if (token.length > 0 && !map.has(token)) map.set(token, map.size);
  }
  const id = (t: string) => {
    const v = map.get(t);
    if (v === undefined)
      throw new TesseraError('E_TOKENIZER_JSON', `BERT vocab lacks ${t}; add it to vocab.txt.`, { details: { field: t } });
    return v;
  };
  const specials = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'].filter((t) => map.has(t));
  const lowercase = options.lowercase ?? true;
  return {
    model: new WordPiece(map, { unkToken: '[UNK]' }),
    normalizer: new BertNormalizer({ lowercase }),
    preTokenizer: new BertPreTokenizer(),
    postProcessor: new BertProcessing(['[SEP]', id('[SEP]')], ['[CLS]', id('[CLS]')]),
    decoder: new WordPieceDecoder('##', true),
    addedTokens: specials.map((t) => specialToken(t, id(t))),
  };
}
