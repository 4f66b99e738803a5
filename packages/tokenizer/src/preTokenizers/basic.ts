import type { NormalizedString } from '../normalizedString.js';
import { type Pattern, patternRegExp } from '../pattern.js';
import { isBertPunctuation, isNumeric, isWhitespace, WORD, WS } from '../unicode.js';
import type { PreTokenizer } from './preTokenizer.js';
import { type SplitBehavior, splitByPredicate, splitByRegex } from './split.js';

abstract class PlainPreTokenizer implements PreTokenizer {
  readonly byteLevel: boolean = false;
  prepare(ns: NormalizedString): NormalizedString {
    return ns;
  }
  abstract split(text: string, spans: number[]): number[];
  abstract toJSON(): Record<string, unknown>;
}

/** Words (`\w+`) and runs of other non-space characters, as Hugging Face `Whitespace`. */
export class WhitespacePreTokenizer extends PlainPreTokenizer {
  private readonly re = new RegExp(`[${WORD}]+|[^${WORD}${WS}]+`, 'gu');
  /** Keeps runs of word characters and runs of other non-space characters; whitespace is dropped. */
  split(text: string, spans: number[]): number[] {
    return splitByRegex(text, spans, this.re, 'Removed', true);
  }
  /** The tokenizer.json `pre_tokenizer` section: `{ type: 'Whitespace' }`. */
  toJSON(): Record<string, unknown> {
    return { type: 'Whitespace' };
  }
}

/** Splits on whitespace, dropping it. */
export class WhitespaceSplitPreTokenizer extends PlainPreTokenizer {
  /** Cuts every span at whitespace, which is dropped. */
  split(text: string, spans: number[]): number[] {
    return splitByPredicate(text, spans, isWhitespace, 'Removed');
  }
  /** The tokenizer.json `pre_tokenizer` section: `{ type: 'WhitespaceSplit' }`. */
  toJSON(): Record<string, unknown> {
    return { type: 'WhitespaceSplit' };
  }
}

/** Splits on one delimiter character, dropping it. */
export class CharDelimiterSplitPreTokenizer extends PlainPreTokenizer {
  private readonly cp: number;
  constructor(readonly delimiter: string) {
    super();
    this.cp = delimiter.codePointAt(0) ?? 0;
  }
  /** Cuts every span at each `delimiter` code point, which is dropped. */
  split(text: string, spans: number[]): number[] {
    return splitByPredicate(text, spans, (cp) => cp === this.cp, 'Removed');
  }
  /** The tokenizer.json `pre_tokenizer` section: `{ type: 'CharDelimiterSplit', delimiter }`. */
  toJSON(): Record<string, unknown> {
    return { type: 'CharDelimiterSplit', delimiter: this.delimiter };
  }
}

/** Splits off punctuation (ASCII punctuation and Unicode category P). */
export class PunctuationPreTokenizer extends PlainPreTokenizer {
  constructor(readonly behavior: SplitBehavior = 'Isolated') {
    super();
  }
  /** Cuts every span at each punctuation character, treated as `behavior` says (default: a word of its own). */
  split(text: string, spans: number[]): number[] {
    return splitByPredicate(text, spans, isBertPunctuation, this.behavior);
  }
  /** The tokenizer.json `pre_tokenizer` section: `{ type: 'Punctuation', behavior }`. */
  toJSON(): Record<string, unknown> {
    return { type: 'Punctuation', behavior: this.behavior };
  }
}

/** Splits off numeric characters (Unicode N: digits, ², ½, Ⅻ...), one by one or as runs. */
export class DigitsPreTokenizer extends PlainPreTokenizer {
  constructor(readonly individualDigits = false) {
    super();
  }
  /** Isolates numeric characters: each alone when `individualDigits`, else runs of them. */
  split(text: string, spans: number[]): number[] {
    return splitByPredicate(text, spans, isNumeric, this.individualDigits ? 'Isolated' : 'Contiguous');
  }
  /** The tokenizer.json `pre_tokenizer` section: `{ type: 'Digits', individual_digits }`. */
  toJSON(): Record<string, unknown> {
    return { type: 'Digits', individual_digits: this.individualDigits };
  }
}

/** Splits on a literal string or a regular expression. */
export class SplitPreTokenizer extends PlainPreTokenizer {
  private readonly re: RegExp;
  constructor(
    readonly pattern: Pattern,
    readonly behavior: SplitBehavior,
    readonly invert = false,
  ) {
    super();
    this.re = patternRegExp(pattern);
  }
  /**
   * Cuts every span at the pattern's matches, treated as `behavior` says; with `invert`, the matches
   * are the words and the text between them the delimiters.
   */
  split(text: string, spans: number[]): number[] {
    return splitByRegex(text, spans, this.re, this.behavior, this.invert);
  }
  /** The tokenizer.json `pre_tokenizer` section: `{ type: 'Split', pattern, behavior, invert }`. */
  toJSON(): Record<string, unknown> {
    return { type: 'Split', pattern: this.pattern, behavior: this.behavior, invert: this.invert };
  }
}

/** BERT: split on whitespace (dropped) and isolate every punctuation character; one pass. */
export class BertPreTokenizer extends PlainPreTokenizer {
  /** Cuts every span at whitespace (dropped) and makes each punctuation character a word of its own. */
  split(text: string, spans: number[]): number[] {
    const out: number[] = [];
    for (let k = 0; k < spans.length; k += 2) {
      const b = spans[k + 1];
      let start = spans[k];
      for (let i = start; i < b; ) {
        const c = text.charCodeAt(i);
        let cp = c;
        let len = 1;
        if (c >= 0xd800 && c <= 0xdbff) {
          cp = text.codePointAt(i)!;
          len = cp > 0xffff ? 2 : 1;
        }
        if (isWhitespace(cp)) {
          if (i > start) out.push(start, i);
          start = i + len;
        } else if (isBertPunctuation(cp)) {
          if (i > start) out.push(start, i);
          out.push(i, i + len);
          start = i + len;
        }
        i += len;
      }
      if (b > start) out.push(start, b);
    }
    return out;
  }
  /** The tokenizer.json `pre_tokenizer` section: `{ type: 'BertPreTokenizer' }`. */
  toJSON(): Record<string, unknown> {
    return { type: 'BertPreTokenizer' };
  }
}

/** Applies pre-tokenizers in order. */
export class SequencePreTokenizer implements PreTokenizer {
  readonly byteLevel: boolean;
  constructor(readonly preTokenizers: PreTokenizer[]) {
    this.byteLevel = preTokenizers.some((p) => p.byteLevel);
  }
  prepare(ns: NormalizedString): NormalizedString {
    let out = ns;
    for (const p of this.preTokenizers) out = p.prepare(out);
    return out;
  }
  split(text: string, spans: number[]): number[] {
    let out = spans;
    for (const p of this.preTokenizers) out = p.split(text, out);
    return out;
  }
  /** The tokenizer.json `pre_tokenizer` section: `{ type: 'Sequence', pretokenizers: [...] }`. */
  toJSON(): Record<string, unknown> {
    return { type: 'Sequence', pretokenizers: this.preTokenizers.map((p) => p.toJSON()) };
  }
}
