import { BYTE_TO_CHAR, utf8 } from '../byteLevel.js';

/** Tokens of one word: ids and [start, end) offsets (2 per token) in the word's UTF-16 units. */
export interface WordTokens {
  readonly ids: Int32Array;
  readonly offsets: Int32Array;
  /** Token strings when they differ from the vocabulary's (Unigram shows unknown text as is). */
  readonly values?: string[];
}

/** Third pipeline stage: turns one word into vocabulary ids. */
export interface Model {
  /** Tokenizes `word` as given (for byte-level pipelines, already mapped to byte characters). */
  tokenizeRaw(word: string): WordTokens;
  /** Id of `token` in the model's own vocabulary (added tokens not included), or undefined. */
  tokenToId(token: string): number | undefined;
  /** Token of `id` in the model's own vocabulary, or undefined. */
  idToToken(id: number): string | undefined;
  /** Token -> id for the model's own vocabulary. */
  getVocab(): Map<string, number>;
  readonly vocabSize: number;
  /** The tokenizer.json `model` section, vocabulary included, that rebuilds this model (read by `modelFromJSON`). */
  toJSON(): Record<string, unknown>;
}

const EMPTY: WordTokens = { ids: new Int32Array(0), offsets: new Int32Array(0) };
const CACHE_LIMIT = 200_000;
const CACHE_MAX_WORD = 128;

/**
 * Tokenizes words through `model` with a word -> tokens cache. In byte-level mode the word is
 * mapped to its UTF-8 byte characters first and the offsets are mapped back to the word's units.
 */
export class WordCache {
  private readonly cache = new Map<string, WordTokens>();

  constructor(
    readonly model: Model,
    readonly byteLevel: boolean,
  ) {}

  tokenize(word: string): WordTokens {
    if (word.length === 0) return EMPTY;
    const cacheable = word.length <= CACHE_MAX_WORD;
    if (cacheable) {
      const hit = this.cache.get(word);
      if (hit !== undefined) return hit;
    }
    const out = this.byteLevel ? this.tokenizeBytes(word) : this.model.tokenizeRaw(word);
    if (cacheable) {
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(word, out);
    }
    return out;
  }

  private tokenizeBytes(word: string): WordTokens {
    let ascii = true;
    for (let i = 0; i < word.length; i++) {
      if (word.charCodeAt(i) >= 128) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      // ASCII bytes map 1:1 to units; only the byte characters differ.
      const parts = new Array<string>(word.length);
      for (let i = 0; i < word.length; i++) parts[i] = BYTE_TO_CHAR[word.charCodeAt(i)];
      return this.model.tokenizeRaw(parts.join(''));
    }
    const bytes = utf8(word);
    const unitStart = new Int32Array(bytes.length);
    const unitEnd = new Int32Array(bytes.length);
    const parts = new Array<string>(bytes.length);
    let b = 0;
    for (let i = 0; i < word.length; ) {
      const cp = word.codePointAt(i)!;
      const units = cp > 0xffff ? 2 : 1;
      const n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
      for (let k = 0; k < n; k++) {
        unitStart[b + k] = i;
        unitEnd[b + k] = i + units;
      }
      b += n;
      i += units;
    }
    for (let k = 0; k < bytes.length; k++) parts[k] = BYTE_TO_CHAR[bytes[k]];
    const raw = this.model.tokenizeRaw(parts.join(''));
    const offsets = new Int32Array(raw.offsets.length);
    for (let t = 0; t < raw.offsets.length; t += 2) {
      offsets[t] = unitStart[raw.offsets[t]];
      offsets[t + 1] = unitEnd[raw.offsets[t + 1] - 1];
    }
    return { ids: raw.ids, offsets, values: raw.values };
  }
}
