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
  split(text: string, spans: number[]): number[] {
    return splitByRegex(text, spans, this.re, 'Removed', true);
  }
  toJSON(): Record<string, unknown> {
    return { type: 'Whitespace' };
  }
}

/** Splits on whitespace, dropping it. */
export class WhitespaceSplitPreTokenizer extends PlainPreTokenizer {
  split(text: string, spans: number[]): number[] {
    return splitByPredicate(text, spans, isWhitespace, 'Removed');
  }
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
  split(text: string, spans: number[]): number[] {
    return splitByPredicate(text, spans, (cp) => cp === this.cp, 'Removed');
  }
  toJSON(): Record<string, unknown> {
    return { type: 'CharDelimiterSplit', delimiter: this.delimiter };
  }
}

/** Splits off punctuation (ASCII punctuation and Unicode category P). */
export class PunctuationPreTokenizer extends PlainPreTokenizer {
  constructor(readonly behavior: SplitBehavior = 'Isolated') {
    super();
  }
  split(text: string, spans: number[]): number[] {
    return splitByPredicate(text, spans, isBertPunctuation, this.behavior);
  }
  toJSON(): Record<string, unknown> {
    return { type: 'Punctuation', behavior: this.behavior };
  }
}

/** Splits off numeric characters (Unicode N: digits, ², ½, Ⅻ...), one by one or as runs. */
export class DigitsPreTokenizer extends PlainPreTokenizer {
  constructor(readonly individualDigits = false) {
    super();
  }
  split(text: string, spans: number[]): number[] {
    return splitByPredicate(text, spans, isNumeric, this.individualDigits ? 'Isolated' : 'Contiguous');
  }
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
  split(text: string, spans: number[]): number[] {
    return splitByRegex(text, spans, this.re, this.behavior, this.invert);
  }
  toJSON(): Record<string, unknown> {
    return { type: 'Split', pattern: this.pattern, behavior: this.behavior, invert: this.invert };
  }
}

/** BERT: split on whitespace (dropped) and isolate every punctuation character; one pass. */
export class BertPreTokenizer extends PlainPreTokenizer {
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
  toJSON(): Record<string, unknown> {
    return { type: 'Sequence', pretokenizers: this.preTokenizers.map((p) => p.toJSON()) };
  }
}
