/**
 * Character classes with the exact meaning Hugging Face tokenizers (Rust) gives them.
 * The BERT classes (whitespace, control, punctuation, nonspacing and combining marks) come from
 * tables asked of the Rust library (hfCharClasses.ts, made by scripts/make-hf-char-classes.ts),
 * because its Unicode tables are older than the JavaScript engine's ICU.
 * For regular expressions, JavaScript's `\s` and `\w` differ from Rust/Oniguruma (`\s` here
 * includes U+FEFF and lacks U+0085; `\w` is ASCII-only), so those classes are spelled out with
 * Unicode properties of the JavaScript engine.
 */
import { BERT_CONTROL, BERT_PUNCTUATION, COMBINING_MARK, NONSPACING_MARK, WHITESPACE } from './hfCharClasses.js';

/** Rust `char::is_whitespace` / Oniguruma `\s`: the Unicode White_Space property. */
export const WS = '\\p{White_Space}';
/** `\w` of Rust's regex crate (Unicode TR18), used by the Whitespace pre-tokenizer. */
export const WORD = '\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}';
/** `\w` of Oniguruma, used by tokenizer.json regex patterns: no Join_Control, but ¹²³¼½¾ (checked against the Rust library). */
export const ONIG_WORD = '\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\u00B2\\u00B3\\u00B9\\u00BC-\\u00BE';

const NUMERIC_RE = /^\p{N}$/u;
const MARK_RE = /^\p{M}$/u;

/** Whether `cp` lies in one of the sorted inclusive [first, last] pairs of `ranges` (binary search). */
function inRanges(ranges: readonly number[], cp: number): boolean {
  let lo = 0;
  let hi = ranges.length / 2 - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (cp < ranges[2 * mid]) hi = mid - 1;
    else if (cp > ranges[2 * mid + 1]) lo = mid + 1;
    else return true;
  }
  return false;
}

function table(test: (cp: number) => boolean): Uint8Array {
  const t = new Uint8Array(128);
  for (let i = 0; i < 128; i++) t[i] = test(i) ? 1 : 0;
  return t;
}
const ASCII_WS = table((cp) => inRanges(WHITESPACE, cp));
const ASCII_PUNCT = table((cp) => inRanges(BERT_PUNCTUATION, cp));
const ASCII_CONTROL = table((cp) => inRanges(BERT_CONTROL, cp));

// Classes of non-ASCII code points, computed on first use and cached.
const KNOWN = 1;
const F_WS = 2;
const F_PUNCT = 4;
const F_CONTROL = 8;
const F_MN = 16;
const F_COMBINING = 32;
const F_MARK = 64;
const F_NUMERIC = 128;
const flags = new Uint8Array(0x110000);

function classify(cp: number): number {
  let f = flags[cp];
  if (f === 0) {
    const ch = String.fromCodePoint(cp);
    f =
      KNOWN |
      (inRanges(WHITESPACE, cp) ? F_WS : 0) |
      (inRanges(BERT_PUNCTUATION, cp) ? F_PUNCT : 0) |
      (inRanges(BERT_CONTROL, cp) ? F_CONTROL : 0) |
      (inRanges(NONSPACING_MARK, cp) ? F_MN : 0) |
      (inRanges(COMBINING_MARK, cp) ? F_COMBINING : 0) |
      (MARK_RE.test(ch) ? F_MARK : 0) |
      (NUMERIC_RE.test(ch) ? F_NUMERIC : 0);
    flags[cp] = f;
  }
  return f;
}

/** Rust `char::is_whitespace` (the White_Space property). */
export function isWhitespace(cp: number): boolean {
  return cp < 128 ? ASCII_WS[cp] === 1 : (classify(cp) & F_WS) !== 0;
}

/** BERT punctuation: ASCII punctuation or the Rust tables' category P (BertPreTokenizer, Punctuation). */
export function isBertPunctuation(cp: number): boolean {
  return cp < 128 ? ASCII_PUNCT[cp] === 1 : (classify(cp) & F_PUNCT) !== 0;
}

/** Rust `char::is_numeric`: categories Nd, Nl, No (the JavaScript engine agrees; the tests check it). */
export function isNumeric(cp: number): boolean {
  return cp < 128 ? cp >= 48 && cp <= 57 : (classify(cp) & F_NUMERIC) !== 0;
}

/**
 * BERT control, as HF tokenizers' BertNormalizer (`is_control`, `clean_text` drops these):
 * Cc, Cf, Co of the Rust tables, except tab, newline and carriage return. Unassigned code points
 * (Cn, e.g. U+0378) are not controls: they stay and become the unknown token.
 */
export function isBertControl(cp: number): boolean {
  return cp < 128 ? ASCII_CONTROL[cp] === 1 : (classify(cp) & F_CONTROL) !== 0;
}

/** BERT whitespace: tab, newline, carriage return or White_Space. */
export function isBertWhitespace(cp: number): boolean {
  return cp === 9 || cp === 10 || cp === 13 || isWhitespace(cp);
}

/** Nonspacing mark (Mn) of the Rust tables: what BertNormalizer's strip_accents drops after NFD. */
export function isNonspacingMark(cp: number): boolean {
  return (classify(cp) & F_MN) !== 0;
}

/** Combining mark of the Rust tables (`is_combining_mark`): what the StripAccents normalizer drops. */
export function isCombiningMark(cp: number): boolean {
  return (classify(cp) & F_COMBINING) !== 0;
}

/**
 * Unicode mark (category M) of the JavaScript engine: where `String.prototype.normalize` may
 * compose or reorder, so normalization segments follow the same tables as the normalization itself.
 */
export function isMark(cp: number): boolean {
  return cp >= 0x300 && (classify(cp) & F_MARK) !== 0;
}

/** CJK ideograph blocks that BERT surrounds with spaces. */
export function isChineseChar(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b920 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}
