import { TesseraError } from '@tessera/base';
import { readText } from '#files';
import { specialToken } from './addedVocabulary.js';
import { ByteLevelDecoder } from './decoders/decoders.js';
import { decoderFromJSON } from './decoders/fromJSON.js';
import { asObject } from './json.js';
import type { BPE } from './models/bpe.js';
import { modelFromJSON } from './models/fromJSON.js';
import { normalizerFromJSON } from './normalizers/fromJSON.js';
import { ByteLevelProcessing } from './postProcessors/byteLevel.js';
import { postProcessorFromJSON } from './postProcessors/fromJSON.js';
import { ByteLevelPreTokenizer } from './preTokenizers/byteLevel.js';
import { preTokenizerFromJSON } from './preTokenizers/fromJSON.js';
import type { TokenizerParts } from './tokenizer.js';

/** Options of `Tokenizer.fromBpeFiles`: which tokenizer the `vocab.json` and `merges.txt` come from. */
export interface BpeFilesOptions {
  /**
   * 'gpt2' (default): byte-level BPE as GPT-2 and RoBERTa. 'clip': OpenAI CLIP's, as transformers'
   * CLIPConverter builds it: NFC, whitespace runs to one space, lower case, CLIP's word split,
   * words ending in `</w>`, wrapped in `bosToken ... eosToken`.
   */
  style?: 'gpt2' | 'clip';
  /** Add a space before the first word (RoBERTa); default false, as GPT-2. */
  addPrefixSpace?: boolean;
  /** Tokens of the vocabulary that become special added tokens; default ['<|endoftext|>'] (CLIP: its bos and eos). */
  specialTokens?: string[];
  /** CLIP: the start and end tokens (defaults `<|startoftext|>`, `<|endoftext|>`). */
  bosToken?: string;
  /** CLIP: the end token, also the unknown token (default `<|endoftext|>`). */
  eosToken?: string;
}

/** OpenAI CLIP's word split (transformers' CLIPConverter), special tokens kept whole. */
const CLIP_SPLIT = "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+";

/**
 * The stages of a GPT-2-style byte-level BPE tokenizer from `vocab.json` (token -> id) and
 * `merges.txt`, given as paths. `specialTokens` found in the vocabulary become special added tokens.
 */
export function bpeFilesParts(vocabPath: string, mergesPath: string, options: BpeFilesOptions = {}): TokenizerParts {
  let vocabJson: unknown;
  try {
    vocabJson = JSON.parse(readText(vocabPath, 'vocab.json'));
  } catch (e) {
    if (e instanceof TesseraError) throw e;
    throw new TesseraError('E_TOKENIZER_JSON', `${vocabPath} is not JSON: ${(e as Error).message}`, { details: { path: vocabPath } });
  }
  const vocab = asObject(vocabJson, 'vocab.json');
  const merges = readText(mergesPath, 'merges.txt')
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l, i) => l.length > 0 && !(i === 0 && l.startsWith('#version')));
  if (options.style === 'clip') return clipParts(vocab, merges, options);
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

/** The stages of OpenAI CLIP's tokenizer from its vocab.json and merges.txt (what transformers' CLIPConverter makes). */
function clipParts(vocab: Record<string, unknown>, merges: string[], options: BpeFilesOptions): TokenizerParts {
  const bos = options.bosToken ?? '<|startoftext|>';
  const eos = options.eosToken ?? '<|endoftext|>';
  const model = modelFromJSON(
    { type: 'BPE', vocab, merges, unk_token: eos, continuing_subword_prefix: '', end_of_word_suffix: '</w>', fuse_unk: false },
    'model',
  ) as BPE;
  const idOf = (token: string): number => {
    const id = model.tokenToId(token);
    if (id === undefined)
      throw new TesseraError('E_TOKENIZER_JSON', `vocab.json has no ${token}, which CLIP's tokenizer wraps every text in`);
    return id;
  };
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    model,
    normalizer: normalizerFromJSON({
      type: 'Sequence',
      normalizers: [{ type: 'NFC' }, { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' }, { type: 'Lowercase' }],
    }),
    preTokenizer: preTokenizerFromJSON({
      type: 'Sequence',
      pretokenizers: [{ type: 'Split', pattern: { Regex: CLIP_SPLIT }, behavior: 'Removed', invert: true }, byteLevel],
    }),
    postProcessor: postProcessorFromJSON({
      type: 'RobertaProcessing',
      sep: [eos, idOf(eos)],
      cls: [bos, idOf(bos)],
      trim_offsets: false,
      add_prefix_space: false,
    }),
    decoder: decoderFromJSON(byteLevel),
    addedTokens: [...new Set([bos, eos, ...(options.specialTokens ?? [])])].map((t) => specialToken(t, idOf(t))),
  };
}
