import { TesseraError } from '@tessera/base';
import { readText, writeTextAtomic } from '#files';
import { type AddedToken, AddedTokenMatcher, addedTokenFromJSON, addedTokenToJSON, specialToken } from './addedVocabulary.js';
import { type BertVocabOptions, bertVocabParts } from './bertVocab.js';
import { type BpeFilesOptions, bpeFilesParts } from './bpeFiles.js';
import type { Decoder } from './decoders/decoder.js';
import { decoderFromJSON } from './decoders/fromJSON.js';
import { Encoding } from './encoding.js';
import { asObject, badField, type JsonObject } from './json.js';
import { BPE } from './models/bpe.js';
import { modelFromJSON } from './models/fromJSON.js';
import { type Model, WordCache } from './models/model.js';
import { WordPiece } from './models/wordPiece.js';
import { NormalizedString } from './normalizedString.js';
import { normalizerFromJSON } from './normalizers/fromJSON.js';
import type { Normalizer } from './normalizers/normalizer.js';
import { type PaddingOptions, paddingFromJSON, paddingToJSON, padEncodings, type ResolvedPadding, resolvePadding } from './padding.js';
import { defaultProcess } from './postProcessors/byteLevel.js';
import { postProcessorFromJSON } from './postProcessors/fromJSON.js';
import type { PostProcessor } from './postProcessors/postProcessor.js';
import { BertProcessing } from './postProcessors/template.js';
import { preTokenizerFromJSON } from './preTokenizers/fromJSON.js';
import type { PreTokenizer } from './preTokenizers/preTokenizer.js';
import { resolveTruncation, type TruncationOptions, truncateEncodings, truncationFromJSON, truncationToJSON } from './truncation.js';

/** Roles special tokens play for models. */
export type SpecialTokenRole = 'pad' | 'unk' | 'cls' | 'sep' | 'mask' | 'bos' | 'eos';
/** Every special-token role, in the order trainers give role tokens their ids. */
export const SPECIAL_TOKEN_ROLES: readonly SpecialTokenRole[] = ['pad', 'unk', 'cls', 'sep', 'mask', 'bos', 'eos'];

/** Conventional names, used to find a role's token when no stage names it. */
const ROLE_NAMES: Record<SpecialTokenRole, string[]> = {
  pad: ['[PAD]', '<pad>', '<|pad|>'],
  unk: ['[UNK]', '<unk>', '<|unk|>'],
  cls: ['[CLS]', '<cls>', '<s>'],
  sep: ['[SEP]', '<sep>', '</s>'],
  mask: ['[MASK]', '<mask>'],
  bos: ['<s>', '<bos>', '<|startoftext|>', '<|endoftext|>', '[CLS]'],
  eos: ['</s>', '<eos>', '<|endoftext|>', '[SEP]'],
};

/** Options of `Tokenizer.encode` and `Tokenizer.encodeBatch`. */
export interface EncodeOptions {
  /** Add the post-processor's special tokens ([CLS], [SEP]...). Default true. */
  addSpecialTokens?: boolean;
}

/** Options of `Tokenizer.decode` and `Tokenizer.decodeBatch`. */
export interface DecodeOptions {
  /** Leave out added tokens marked `special` (`[CLS]`, `[PAD]`, `<|endoftext|>`...); default false. */
  skipSpecialTokens?: boolean;
}

/** One input of a batch: a text or a pair of texts. */
export type EncodeInput = string | [string, string];

/** The stages and settings `new Tokenizer(parts)` is built from; a stage left out or null is skipped. */
export interface TokenizerParts {
  /** Turns each word into ids: `WordPiece`, `BPE`, `Unigram` or `WordLevel`. */
  model: Model;
  /** Rewrites the text first (lowercasing, Unicode forms...). */
  normalizer?: Normalizer | null;
  /** Cuts the normalized text into words; without one, each text segment is one word. */
  preTokenizer?: PreTokenizer | null;
  /** Adds special tokens and merges pairs; without one, a pair is appended as is. */
  postProcessor?: PostProcessor | null;
  /** Turns tokens back into text; without one, `decode` joins tokens with spaces. */
  decoder?: Decoder | null;
  /** Tokens matched in the text before the model sees it (special tokens and the like). */
  addedTokens?: AddedToken[];
  /** Truncation to apply from the start, as `setTruncation` takes it. */
  truncation?: TruncationOptions | null;
  /** Padding to apply from the start, as `setPadding` takes it. */
  padding?: PaddingOptions | null;
}

const LONE_SURROGATE = /\p{Cs}/gu;

function checkText(value: unknown, what: string): string {
  if (typeof value !== 'string') {
    throw new TesseraError(
      'E_INPUT',
      `${what} must be a string, got ${value === null ? 'null' : typeof value}. Convert it to text first.`,
      {
        details: { field: what },
      },
    );
  }
  // Lone surrogates cannot be encoded as UTF-8; like TextEncoder, they become U+FFFD (same length, so offsets hold).
  LONE_SURROGATE.lastIndex = 0;
  return LONE_SURROGATE.test(value) ? value.replace(LONE_SURROGATE, '\uFFFD') : value;
}

/**
 * A Hugging Face-compatible tokenizer: normalizer -> pre-tokenizer -> model -> post-processor,
 * and a decoder; reads and writes `tokenizer.json`. Offsets are UTF-16 indices into the input
 * (`text.slice(start, end)`), where the Rust library counts code points.
 */
export class Tokenizer {
  readonly model: Model;
  readonly normalizer: Normalizer | null;
  readonly preTokenizer: PreTokenizer | null;
  readonly postProcessor: PostProcessor | null;
  readonly decoder: Decoder | null;
  private truncation: Required<TruncationOptions> | null = null;
  private padding: ResolvedPadding | null = null;
  private addedTokens: AddedToken[] = [];
  private addedById = new Map<number, AddedToken>();
  private rawMatcher = new AddedTokenMatcher([]);
  private normMatcher = new AddedTokenMatcher([]);
  private readonly words: WordCache;
  private readonly roleOverrides = new Map<SpecialTokenRole, string>();

  constructor(parts: TokenizerParts) {
    this.model = parts.model;
    this.normalizer = parts.normalizer ?? null;
    this.preTokenizer = parts.preTokenizer ?? null;
    this.postProcessor = parts.postProcessor ?? null;
    this.decoder = parts.decoder ?? null;
    this.words = new WordCache(this.model, this.preTokenizer?.byteLevel ?? false);
    this.setAddedTokens(parts.addedTokens ?? []);
    if (parts.truncation) this.setTruncation(parts.truncation);
    if (parts.padding) this.setPadding(parts.padding);
  }

  // ---------------------------------------------------------------- loading and saving

  /** Builds a tokenizer from a parsed `tokenizer.json`; bad fields raise E_TOKENIZER_JSON naming them. */
  static fromJSON(json: unknown): Tokenizer {
    const obj = asObject(json, '(root)');
    if (obj.model === undefined || obj.model === null) throw badField('model', 'is missing');
    const opt = <T>(key: string, f: (v: unknown, path: string) => T): T | null =>
      obj[key] === null || obj[key] === undefined ? null : f(obj[key], key);
    const added = obj.added_tokens === undefined || obj.added_tokens === null ? [] : obj.added_tokens;
    if (!Array.isArray(added)) throw badField('added_tokens', 'must be an array');
    const tokenizer = new Tokenizer({
      model: modelFromJSON(obj.model, 'model'),
      normalizer: opt('normalizer', normalizerFromJSON),
      preTokenizer: opt('pre_tokenizer', preTokenizerFromJSON),
      postProcessor: opt('post_processor', postProcessorFromJSON),
      decoder: opt('decoder', decoderFromJSON),
      addedTokens: added.map((t, i) => addedTokenFromJSON(t, `added_tokens.${i}`)),
    });
    tokenizer.truncation = truncationFromJSON(obj.truncation);
    tokenizer.padding = paddingFromJSON(obj.padding);
    return tokenizer;
  }

  /** Parses `tokenizer.json` text. */
  static fromString(text: string): Tokenizer {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new TesseraError('E_TOKENIZER_JSON', `Invalid tokenizer.json: not JSON (${(e as Error).message}).`, {
        details: { field: '(root)' },
      });
    }
    return Tokenizer.fromJSON(json);
  }

  /** Reads a Hugging Face `tokenizer.json` file. */
  static fromFile(path: string): Tokenizer {
    return Tokenizer.fromString(readText(path, 'tokenizer file'));
  }

  /** The `tokenizer.json` object (Hugging Face format, readable by the Rust library). */
  toJSON(): JsonObject {
    return {
      version: '1.0',
      truncation: truncationToJSON(this.truncation),
      padding: paddingToJSON(this.padding),
      added_tokens: this.addedTokens.map(addedTokenToJSON),
      normalizer: this.normalizer?.toJSON() ?? null,
      pre_tokenizer: this.preTokenizer?.toJSON() ?? null,
      post_processor: this.postProcessor?.toJSON() ?? null,
      decoder: this.decoder?.toJSON() ?? null,
      model: this.model.toJSON(),
    };
  }

  /** Writes `tokenizer.json` atomically. */
  async save(path: string): Promise<void> {
    await writeTextAtomic(path, JSON.stringify(this.toJSON()));
  }

  /**
   * bert-base-style tokenizer from a WordPiece `vocab.txt` (a path, or its lines):
   * BERT normalizer, BERT pre-tokenizer, `[CLS] A [SEP]`, WordPiece decoder.
   */
  static fromBertVocab(vocab: string | string[], options: BertVocabOptions = {}): Tokenizer {
    return new Tokenizer(bertVocabParts(vocab, options));
  }

  /**
   * GPT-2-style byte-level BPE from `vocab.json` (token -> id) and `merges.txt`, given as paths.
   * `<|endoftext|>` (when in the vocabulary) and `specialTokens` become special added tokens.
   */
  static fromBpeFiles(vocabPath: string, mergesPath: string, options: BpeFilesOptions = {}): Tokenizer {
    return new Tokenizer(bpeFilesParts(vocabPath, mergesPath, options));
  }

  // ---------------------------------------------------------------- configuration

  /**
   * Truncates every encoding to `maxLength` tokens, the post-processor's special tokens included; the
   * rest goes to `Encoding.overflowing` (Hugging Face `enable_truncation`). Throws `E_CONFIG` unless
   * `maxLength` is a non-negative integer and `stride` an integer in [0, maxLength); `encode` throws
   * `E_TRUNCATION` when the limit cannot be met.
   */
  setTruncation(options: TruncationOptions): void {
    this.truncation = resolveTruncation(options);
  }

  /** Turns truncation off (Hugging Face `no_truncation`). */
  noTruncation(): void {
    this.truncation = null;
  }

  /**
   * Pads every encoding to the longest of its batch, or to `length`, rounded up to `padToMultipleOf`
   * (Hugging Face `enable_padding`). `padId` and `padToken` default to the tokenizer's pad token, else
   * 0 and `[PAD]`.
   */
  setPadding(options: PaddingOptions = {}): void {
    const pad = this.specialTokens.pad;
    this.padding = resolvePadding({ padId: pad?.id, padToken: pad?.token, ...options });
  }

  /** Turns padding off (Hugging Face `no_padding`). */
  noPadding(): void {
    this.padding = null;
  }

  /** Current truncation and padding settings (null when off). */
  get settings(): { truncation: Required<TruncationOptions> | null; padding: ResolvedPadding | null } {
    return { truncation: this.truncation, padding: this.padding };
  }

  /** Adds special tokens (new ids after the vocabulary when they are not in it). */
  addSpecialTokens(tokens: string[]): void {
    const next = [...this.addedTokens];
    let nextId = this.vocabSize;
    for (const t of tokens) {
      if (typeof t !== 'string' || t.length === 0) throw new TesseraError('E_INPUT', 'Special tokens must be non-empty strings.');
      if (next.some((a) => a.content === t)) continue;
      next.push(specialToken(t, this.model.tokenToId(t) ?? nextId++));
    }
    this.setAddedTokens(next);
  }

  /** Names the token that plays `role` (it must be in the vocabulary). */
  setSpecialToken(role: SpecialTokenRole, token: string): void {
    if (this.tokenToId(token) === undefined) {
      throw new TesseraError('E_INPUT', `Special token ${token} for role ${role} is not in the vocabulary; add it first.`, {
        details: { role, token },
      });
    }
    this.roleOverrides.set(role, token);
  }

  /**
   * Special tokens by role, with ids: from explicit settings, then the model (unk), the
   * post-processor (cls, sep), padding (pad), then conventional names among added tokens.
   */
  get specialTokens(): Partial<Record<SpecialTokenRole, { token: string; id: number }>> {
    const out: Partial<Record<SpecialTokenRole, { token: string; id: number }>> = {};
    const model = this.model;
    const structural: Partial<Record<SpecialTokenRole, string>> = {};
    if (model instanceof WordPiece) structural.unk = model.unkToken;
    if (model instanceof BPE && model.unkToken !== null) structural.unk = model.unkToken;
    if (this.postProcessor instanceof BertProcessing) {
      structural.cls = this.postProcessor.cls[0];
      structural.sep = this.postProcessor.sep[0];
    }
    if (this.padding) structural.pad = this.padding.padToken;
    const added = new Set(this.addedTokens.map((t) => t.content));
    for (const role of SPECIAL_TOKEN_ROLES) {
      const candidates = [this.roleOverrides.get(role), structural[role], ...ROLE_NAMES[role].filter((n) => added.has(n))];
      for (const c of candidates) {
        if (c === undefined) continue;
        const id = this.tokenToId(c);
        if (id !== undefined) {
          out[role] = { token: c, id };
          break;
        }
      }
    }
    return out;
  }

  private setAddedTokens(tokens: AddedToken[]): void {
    this.addedTokens = tokens;
    this.addedById = new Map(tokens.map((t) => [t.id, t]));
    this.rawMatcher = new AddedTokenMatcher(tokens.filter((t) => !t.normalized));
    const norm = this.normalizer;
    this.normMatcher = new AddedTokenMatcher(
      tokens.filter((t) => t.normalized),
      (t) => (norm === null ? t.content : norm.normalize(NormalizedString.of(t.content)).text),
    );
  }

  // ---------------------------------------------------------------- vocabulary

  get vocabSize(): number {
    let n = this.model.vocabSize;
    for (const t of this.addedTokens) if (this.model.tokenToId(t.content) === undefined) n++;
    return n;
  }

  /** Token -> id for the model's vocabulary plus the added tokens, as a new Map (Hugging Face `get_vocab(with_added_tokens=True)`). */
  getVocab(): Map<string, number> {
    const v = this.model.getVocab();
    for (const t of this.addedTokens) v.set(t.content, t.id);
    return v;
  }

  /** Id of `token`, an added token or one of the model's vocabulary, or undefined. */
  tokenToId(token: string): number | undefined {
    return this.addedTokens.find((t) => t.content === token)?.id ?? this.model.tokenToId(token);
  }

  /** Token of `id`, an added token or one of the model's vocabulary, or undefined. */
  idToToken(id: number): string | undefined {
    return this.addedById.get(id)?.content ?? this.model.idToToken(id);
  }

  // ---------------------------------------------------------------- encoding

  /** Encodes a text, or a pair of texts, with the configured truncation and padding. */
  encode(text: string, pair?: string | null, options: EncodeOptions = {}): Encoding {
    const a = this.encodeSequence(checkText(text, 'text'), 0);
    const b = pair === undefined || pair === null ? null : this.encodeSequence(checkText(pair, 'pair'), 1);
    const out = this.postProcess(a, b, options.addSpecialTokens ?? true);
    if (this.padding) padEncodings([out], this.padding);
    return out;
  }

  /** Encodes a batch; padding (if set) brings every encoding to the same length. */
  encodeBatch(inputs: EncodeInput[], options: EncodeOptions = {}): Encoding[] {
    if (!Array.isArray(inputs)) throw new TesseraError('E_INPUT', 'encodeBatch expects an array of texts or [text, pair] pairs.');
    const add = options.addSpecialTokens ?? true;
    const out = new Array<Encoding>(inputs.length);
    for (let i = 0; i < inputs.length; i++) {
      const input = inputs[i];
      if (Array.isArray(input)) {
        out[i] = this.postProcess(
          this.encodeSequence(checkText(input[0], `inputs[${i}][0]`), 0),
          this.encodeSequence(checkText(input[1], `inputs[${i}][1]`), 1),
          add,
        );
      } else {
        out[i] = this.postProcess(this.encodeSequence(checkText(input, `inputs[${i}]`), 0), null, add);
      }
    }
    if (this.padding) padEncodings(out, this.padding);
    return out;
  }

  /**
   * Walks `text` through added-token matching, normalization and pre-tokenization: `onAdded` gets
   * each added token with its original range, `onWord` each word with its NormalizedString and range.
   */
  private walk(
    text: string,
    onAdded: (id: number, start: number, end: number) => void,
    onWord: (piece: NormalizedString, start: number, end: number) => void,
  ): void {
    for (const [s, e, id] of this.rawMatcher.split(text)) {
      if (id >= 0) {
        onAdded(id, s, e);
        continue;
      }
      let ns = NormalizedString.of(s === 0 && e === text.length ? text : text.slice(s, e), s);
      if (this.normalizer !== null) ns = this.normalizer.normalize(ns);
      for (const [a, b, nid] of this.normMatcher.split(ns.text)) {
        if (nid >= 0) {
          const [oa, ob] = ns.original(a, b);
          onAdded(nid, oa, ob);
          continue;
        }
        let piece = a === 0 && b === ns.text.length ? ns : ns.slice(a, b);
        if (this.preTokenizer !== null) piece = this.preTokenizer.prepare(piece);
        const str = piece.text;
        if (str.length === 0) continue;
        const spans = this.preTokenizer === null ? [0, str.length] : this.preTokenizer.split(str, [0, str.length]);
        for (let k = 0; k < spans.length; k += 2) onWord(piece, spans[k], spans[k + 1]);
      }
    }
  }

  /** The words the model sees for `text`, after normalization and pre-tokenization (added tokens left out). */
  preTokenize(text: string): string[] {
    const words: string[] = [];
    this.walk(
      checkText(text, 'text'),
      () => {},
      (piece, a, b) => words.push(piece.text.slice(a, b)),
    );
    return words;
  }

  private encodeSequence(text: string, seq: number): Encoding {
    const ids: number[] = [];
    const tokens: string[] = [];
    const offsets: Array<[number, number]> = [];
    const wordIds: number[] = [];
    let word = 0;
    const model = this.model;
    this.walk(
      text,
      (id, s, e) => {
        ids.push(id);
        tokens.push(this.idToToken(id)!);
        offsets.push([s, e]);
        wordIds.push(word++);
      },
      (piece, ws, we) => {
        const str = piece.text;
        const wt = this.words.tokenize(ws === 0 && we === str.length ? str : str.slice(ws, we));
        const wo = wt.offsets;
        const values = wt.values;
        for (let t = 0; t < wt.ids.length; t++) {
          const tid = wt.ids[t];
          ids.push(tid);
          tokens.push(values === undefined ? model.idToToken(tid)! : values[t]);
          offsets.push(piece.original(ws + wo[2 * t], ws + wo[2 * t + 1]));
          wordIds.push(word);
        }
        word++;
      },
    );
    const n = ids.length;
    const encoding = new Encoding(
      ids,
      new Array<number>(n).fill(seq),
      tokens,
      offsets,
      new Array<number>(n).fill(0),
      new Array<number>(n).fill(1),
      new Array<number | null>(n).fill(seq),
      wordIds,
    );
    encoding.text = text;
    return encoding;
  }

  private postProcess(a: Encoding, b: Encoding | null, addSpecial: boolean): Encoding {
    if (this.truncation !== null) {
      const added = addSpecial && this.postProcessor !== null ? this.postProcessor.addedTokens(b !== null) : 0;
      if (this.truncation.maxLength < added) {
        throw new TesseraError(
          'E_TRUNCATION',
          `truncation.maxLength ${this.truncation.maxLength} leaves no room for the ${added} special tokens; raise it.`,
          { details: { field: 'maxLength' } },
        );
      }
      truncateEncodings(a, b, { ...this.truncation, maxLength: this.truncation.maxLength - added });
    }
    return this.postProcessor === null ? defaultProcess(a, b) : this.postProcessor.process(a, b, addSpecial);
  }

  // ---------------------------------------------------------------- decoding

  /** Decodes ids to text; ids outside the vocabulary are skipped. */
  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    if (ids === null || typeof ids !== 'object' || typeof ids.length !== 'number') {
      throw new TesseraError('E_INPUT', 'decode expects an array of token ids.');
    }
    const skip = options.skipSpecialTokens ?? false;
    const tokens: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!Number.isInteger(id))
        throw new TesseraError('E_INPUT', `decode: ids[${i}] is ${String(id)}, not an integer id.`, { details: { index: i } });
      const added = this.addedById.get(id);
      if (added !== undefined) {
        if (!(skip && added.special)) tokens.push(added.content);
        continue;
      }
      const t = this.model.idToToken(id);
      if (t !== undefined) tokens.push(t);
    }
    return this.decoder === null ? tokens.join(' ') : this.decoder.decodeChain(tokens).join('');
  }

  /** Decodes each id sequence as `decode` does (same `E_INPUT` errors). */
  decodeBatch(batch: ArrayLike<number>[], options: DecodeOptions = {}): string[] {
    return Array.from(batch, (ids) => this.decode(ids, options));
  }
}
