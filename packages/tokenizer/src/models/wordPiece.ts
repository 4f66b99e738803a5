import { TesseraError } from '@tessera/base';
import type { WordTokens } from './model.js';
import { VocabModel } from './vocabModel.js';

/** Options of the WordPiece model, as the fields of a tokenizer.json `WordPiece` model. */
export interface WordPieceOptions {
  /** Token for words that cannot be spelled; default `[UNK]`, and it must be in the vocabulary (else `E_TOKENIZER_JSON`). */
  unkToken?: string;
  /** Prefix of non-initial subwords; default `##`. */
  continuingSubwordPrefix?: string;
  /** Words longer than this many code points become `unkToken`; default 100. */
  maxInputCharsPerWord?: number;
}

/** Greedy longest-match-first subwords (BERT). */
export class WordPiece extends VocabModel {
  readonly unkToken: string;
  readonly continuingSubwordPrefix: string;
  readonly maxInputCharsPerWord: number;
  private readonly maxTokenLength: number;
  private readonly unkId: number;

  constructor(vocab: Map<string, number>, options: WordPieceOptions = {}) {
    super(vocab);
    this.unkToken = options.unkToken ?? '[UNK]';
    this.continuingSubwordPrefix = options.continuingSubwordPrefix ?? '##';
    this.maxInputCharsPerWord = options.maxInputCharsPerWord ?? 100;
    let maxLen = 1;
    for (const token of vocab.keys()) if (token.length > maxLen) maxLen = token.length;
    this.maxTokenLength = maxLen;
    const unk = vocab.get(this.unkToken);
    if (unk === undefined) {
      throw new TesseraError(
        'E_TOKENIZER_JSON',
        `Invalid tokenizer.json: model.unk_token "${this.unkToken}" is not in model.vocab. Add it to the vocabulary.`,
        {
          details: { field: 'model.unk_token' },
        },
      );
    }
    this.unkId = unk;
  }

  /**
   * Greedy longest-match-first subwords, non-initial ones looked up with the prefix; a word with a
   * piece outside the vocabulary, or over `maxInputCharsPerWord` code points, becomes one `unkToken`.
   */
  tokenizeRaw(word: string): WordTokens {
    const n = word.length;
    const unk = (): WordTokens => ({ ids: Int32Array.of(this.unkId), offsets: Int32Array.of(0, n) });
    if (n > this.maxInputCharsPerWord) {
      let chars = 0;
      for (let i = 0; i < n; i += word.codePointAt(i)! > 0xffff ? 2 : 1) chars++;
      if (chars > this.maxInputCharsPerWord) return unk();
    }
    const ids: number[] = [];
    const offsets: number[] = [];
    const prefix = this.continuingSubwordPrefix;
    let start = 0;
    while (start < n) {
      let end = Math.min(n, start + this.maxTokenLength);
      // Never cut a surrogate pair.
      if (end < n && isLowSurrogate(word.charCodeAt(end))) end--;
      let found = -1;
      while (start < end) {
        const sub = start > 0 ? prefix + word.slice(start, end) : word.slice(start, end);
        const id = this.vocab.get(sub);
        if (id !== undefined) {
          found = id;
          break;
        }
        end -= end - 1 > start && isLowSurrogate(word.charCodeAt(end - 1)) ? 2 : 1;
      }
      if (found < 0) return unk();
      ids.push(found);
      offsets.push(start, end);
      start = end;
    }
    return { ids: Int32Array.from(ids), offsets: Int32Array.from(offsets) };
  }

  /** The tokenizer.json `model` section: `{ type: 'WordPiece', unk_token, continuing_subword_prefix, max_input_chars_per_word, vocab }`. */
  toJSON(): Record<string, unknown> {
    return {
      type: 'WordPiece',
      unk_token: this.unkToken,
      continuing_subword_prefix: this.continuingSubwordPrefix,
      max_input_chars_per_word: this.maxInputCharsPerWord,
      vocab: Object.fromEntries([...this.vocab].sort((a, b) => a[1] - b[1])),
    };
  }
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}
