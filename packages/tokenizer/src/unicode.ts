/**
 * Character classes with the exact meaning Hugging Face tokenizers (Rust) gives them.
 * JavaScript's `\s` and `\w` differ from Rust/Oniguruma (`\s` here includes U+FEFF and lacks
 * U+0085; `\w` is ASCII-only), so every class is spelled out with Unicode properties.
 */

/** Rust `char::is_whitespace` / Oniguruma `\s`: the Unicode White_Space property. */
export const WS = '\\p{White_Space}';
/** `\w` of Rust's regex crate (Unicode TR18), used by the Whitespace pre-tokenizer. */
export const WORD = '\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}';
/** `\w` of Oniguruma, used by tokenizer.json regex patterns: no Join_Control, but ¹²³¼½¾ (checked against the Rust library). */
export const ONIG_WORD = '\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\u00B2\\u00B3\\u00B9\\u00BC-\\u00BE';

const WHITESPACE_RE = /^\p{White_Space}$/u;
const PUNCT_RE = /^\p{P}$/u;
/** Cc, Cf, Co, Cs: category C without Cn (unassigned), which HF's `is_other` does not count. */
const OTHER_RE = /^[\p{Cc}\p{Cf}\p{Co}\p{Cs}]$/u;
const MN_RE = /^\p{Mn}$/u;
const MARK_RE = /^\p{M}$/u;
const NUMERIC_RE = /^\p{N}$/u;

function table(test: (c: string) => boolean): Uint8Array {
  const t = new Uint8Array(128);
  for (let i = 0; i < 128; i++) t[i] = test(String.fromCharCode(i)) ? 1 : 0;
  return t;
}
const ASCII_WS = table((c) => WHITESPACE_RE.test(c));
const ASCII_PUNCT = table((c) => /[!-/:-@[-`{-~]/.test(c));

// Classes of non-ASCII code points, computed on first use (regex tests are slow per character).
const KNOWN = 1;
const F_WS = 2;
const F_PUNCT = 4;
const F_OTHER = 8;
const F_MN = 16;
const F_MARK = 32;
const F_NUMERIC = 64;
const flags = new Uint8Array(0x110000);

function classify(cp: number): number {
  let f = flags[cp];
  if (f === 0) {
    const ch = String.fromCodePoint(cp);
    f =
      KNOWN |
      (WHITESPACE_RE.test(ch) ? F_WS : 0) |
      (PUNCT_RE.test(ch) ? F_PUNCT : 0) |
      (OTHER_RE.test(ch) ? F_OTHER : 0) |
      (MN_RE.test(ch) ? F_MN : 0) |
      (MARK_RE.test(ch) ? F_MARK : 0) |
      (NUMERIC_RE.test(ch) ? F_NUMERIC : 0);
    flags[cp] = f;
  }
  return f;
}

export function isWhitespace(cp: number): boolean {
  return cp < 128 ? ASCII_WS[cp] === 1 : (classify(cp) & F_WS) !== 0;
}

/** BERT punctuation: ASCII punctuation or Unicode category P. */
export function isBertPunctuation(cp: number): boolean {
  return cp < 128 ? ASCII_PUNCT[cp] === 1 : (classify(cp) & F_PUNCT) !== 0;
}

/** Rust `char::is_numeric`: categories Nd, Nl, No. */
export function isNumeric(cp: number): boolean {
  return cp < 128 ? cp >= 48 && cp <= 57 : (classify(cp) & F_NUMERIC) !== 0;
}

/**
 * BERT control, as HF tokenizers' BertNormalizer (`is_control`, `clean_text` drops these):
 * categories Cc, Cf, Co, Cs, except tab, newline and carriage return. Unassigned code points
 * (Cn, e.g. U+0378) are not controls: they stay and become the unknown token.
 */
export function isBertControl(cp: number): boolean {
  if (cp === 9 || cp === 10 || cp === 13) return false;
  if (cp >= 32 && cp < 127) return false;
  return (classify(cp) & F_OTHER) !== 0;
}

/** BERT whitespace: tab, newline, carriage return or White_Space. */
export function isBertWhitespace(cp: number): boolean {
  return cp === 9 || cp === 10 || cp === 13 || isWhitespace(cp);
}

export function isNonspacingMark(cp: number): boolean {
  return cp >= 0x300 && (classify(cp) & F_MN) !== 0;
}

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
