import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
/** The official Hugging Face Rust binding (a devDependency): the reference for every class below. */
const rust: typeof import('tokenizers') = require('tokenizers');

/**
 * Character classes Hugging Face tokenizers (Rust) applies, as Tessera tabulates them:
 * - whitespace: `char::is_whitespace` (BertPreTokenizer, WhitespaceSplit, BertNormalizer's clean_text map to ' ')
 * - bertControl: BertNormalizer's `is_control` (dropped by clean_text), U+0000 included
 * - bertPunctuation: split off by BertPreTokenizer (`is_ascii_punctuation || is_punctuation`)
 * - nonspacingMark: dropped by BertNormalizer's strip_accents after its NFD (`is_mark_nonspacing`)
 * - combiningMark: dropped by the StripAccents normalizer (`is_combining_mark`)
 * - numeric: split off by the Digits pre-tokenizer (`char::is_numeric`)
 */
export const HF_CHAR_CLASSES = ['whitespace', 'bertControl', 'bertPunctuation', 'nonspacingMark', 'combiningMark', 'numeric'] as const;
export type HfCharClass = (typeof HF_CHAR_CLASSES)[number];

/** One flag byte per code point U+0000-U+10FFFF, bit i for HF_CHAR_CLASSES[i]. */
export type ClassFlags = Uint8Array;

export const LAST_CODE_POINT = 0x10ffff;
/** Separates probed code points for normalizers: no canonical decomposition contains it. */
const NORM_SEP = '#';
/** Separates probed code points for pre-tokenizers: a letter, so it joins whatever is not split off. */
const PRE_SEP = 'x';
const CHUNK = 8192;

const isSurrogate = (cp: number) => cp >= 0xd800 && cp <= 0xdfff;

/** Code points from..to inclusive, without surrogates (a Rust `char` cannot be one). */
export function scalarValues(from = 0, to = LAST_CODE_POINT): number[] {
  const out: number[] = [];
  for (let cp = from; cp <= to; cp++) if (!isSurrogate(cp)) out.push(cp);
  return out;
}

/**
 * Runs a Rust normalizer on each code point between separators ("#A#B#...", the separator alone
 * apart) and returns what each became. The separator is probed on its own, as "a" + "#" + "b".
 */
function normalizeEach(normalizer: { normalizeString(s: string): string }, cps: number[]): string[] {
  const out: string[] = new Array(cps.length);
  const batched: number[] = [];
  cps.forEach((cp, i) => {
    if (cp === NORM_SEP.codePointAt(0)) out[i] = normalizer.normalizeString(`a${NORM_SEP}b`).slice(1, -1);
    else batched.push(i);
  });
  for (let k = 0; k < batched.length; k += CHUNK) {
    const idx = batched.slice(k, k + CHUNK);
    const text = NORM_SEP + idx.map((i) => String.fromCodePoint(cps[i])).join(NORM_SEP) + NORM_SEP;
    const pieces = normalizer.normalizeString(text).split(NORM_SEP).slice(1, -1);
    if (pieces.length !== idx.length) throw new Error(`normalizer produced or removed the separator in ${text.slice(0, 40)}`);
    idx.forEach((i, j) => {
      out[i] = pieces[j];
    });
  }
  return out;
}

/** How a pre-tokenizer treated each code point set between separators: dropped, alone, or joined to its neighbours. */
export type PreTokenFate = 'removed' | 'isolated' | 'joined';

function preTokenizeEach(preTokenizer: { preTokenizeString(s: string): [string, [number, number]][] }, cps: number[]): PreTokenFate[] {
  const out: PreTokenFate[] = new Array(cps.length);
  for (let k = 0; k < cps.length; k += CHUNK) {
    const part = cps.slice(k, k + CHUNK);
    const text = PRE_SEP + part.map((cp) => String.fromCodePoint(cp)).join(PRE_SEP) + PRE_SEP;
    // Offsets count code points: the probed one at j sits at 2j + 1.
    const n = 2 * part.length + 1;
    const covered = new Uint8Array(n);
    const alone = new Uint8Array(n);
    for (const [, [s, e]] of preTokenizer.preTokenizeString(text)) {
      for (let p = s; p < e; p++) covered[p] = 1;
      if (e === s + 1) alone[s] = 1;
    }
    part.forEach((_, j) => {
      const p = 2 * j + 1;
      out[k + j] = covered[p] === 0 ? 'removed' : alone[p] === 1 ? 'isolated' : 'joined';
    });
  }
  return out;
}

/** Asks the Rust library which of the given code points (no surrogates) are in each class. */
export function probeHfCharClasses(cps: number[]): Map<number, number> {
  const bit = (c: HfCharClass) => 1 << HF_CHAR_CLASSES.indexOf(c);
  const chars = cps.map((cp) => String.fromCodePoint(cp));
  const only = (o: { cleanText?: boolean; stripAccents?: boolean }) =>
    rust.bertNormalizer({ cleanText: false, handleChineseChars: false, stripAccents: false, lowercase: false, ...o });
  const cleaned = normalizeEach(only({ cleanText: true }), cps);
  const nfd = normalizeEach(rust.nfdNormalizer(), cps);
  const stripped = normalizeEach(only({ stripAccents: true }), cps);
  const unmarked = normalizeEach(rust.stripAccentsNormalizer(), cps);
  const split = preTokenizeEach(rust.whitespaceSplitPreTokenizer(), cps);
  const bert = preTokenizeEach(rust.bertPreTokenizer(), cps);
  const digits = preTokenizeEach(rust.digitsPreTokenizer(true), cps);
  const out = new Map<number, number>();
  cps.forEach((cp, i) => {
    let f = 0;
    if (split[i] === 'removed') f |= bit('whitespace');
    if (cleaned[i] === '' && cp !== 0xfffd) f |= bit('bertControl');
    if (bert[i] === 'isolated') f |= bit('bertPunctuation');
    // strip_accents sees the code point itself only where the Rust NFD leaves it alone; elsewhere
    // it never reaches the filter, and the table keeps Unicode's own answer.
    if (nfd[i] === chars[i] ? stripped[i] === '' : /^\p{Mn}$/u.test(chars[i])) f |= bit('nonspacingMark');
    if (unmarked[i] === '') f |= bit('combiningMark');
    if (digits[i] === 'isolated') f |= bit('numeric');
    // clean_text maps the same whitespace (plus tab, newline, carriage return) to ' ' unless it dropped it.
    const bertWs = cleaned[i] === ' ' && cp !== 0x20;
    const expected = (f & bit('whitespace')) !== 0 || cp === 9 || cp === 10 || cp === 13;
    if (bertWs !== (expected && (f & bit('bertControl')) === 0) && cp !== 0x20)
      throw new Error(`U+${cp.toString(16)}: clean_text and WhitespaceSplit disagree on whitespace`);
    if ((bert[i] === 'removed') !== ((f & bit('whitespace')) !== 0))
      throw new Error(`U+${cp.toString(16)}: BertPreTokenizer and WhitespaceSplit disagree on whitespace`);
    out.set(cp, f);
  });
  return out;
}

/** Code points where the Rust NFD differs from JavaScript's (String.prototype.normalize). */
export function nfdDifferences(cps: number[]): number[] {
  const nfd = normalizeEach(rust.nfdNormalizer(), cps);
  return cps.filter((cp, i) => nfd[i] !== String.fromCodePoint(cp).normalize('NFD'));
}

/** Code points BertNormalizer's handle_chinese_chars surrounds with spaces. */
export function probeChineseChars(cps: number[]): Set<number> {
  const spaced = normalizeEach(
    rust.bertNormalizer({ cleanText: false, handleChineseChars: true, stripAccents: false, lowercase: false }),
    cps,
  );
  return new Set(cps.filter((cp, i) => spaced[i] === ` ${String.fromCodePoint(cp)} `));
}

/** How the Whitespace pre-tokenizer (`\w+|[^\w\s]+`, Rust's regex crate) treats each code point. */
export function probeWhitespacePreTokenizer(cps: number[]): PreTokenFate[] {
  return preTokenizeEach(rust.whitespacePreTokenizer(), cps);
}

/** Which code points an Oniguruma character class (a tokenizer.json Split regex, e.g. `\w`) matches. */
export function probeRegexClass(cls: string, cps: number[]): Set<number> {
  const json = {
    version: '1.0',
    pre_tokenizer: { type: 'Split', pattern: { Regex: cls }, behavior: 'Removed', invert: false },
    model: { type: 'WordLevel', vocab: { '[UNK]': 0 }, unk_token: '[UNK]' },
  };
  const pre = rust.Tokenizer.fromString(JSON.stringify(json)).getPreTokenizer()!;
  const fate = preTokenizeEach(pre, cps);
  return new Set(cps.filter((_, i) => fate[i] === 'removed'));
}

/** Sorted code points to inclusive [start, end] pairs, flattened. */
export function toRanges(sorted: number[]): number[] {
  const out: number[] = [];
  for (const cp of sorted) {
    if (out.length > 0 && out[out.length - 1] === cp - 1) out[out.length - 1] = cp;
    else out.push(cp, cp);
  }
  return out;
}
