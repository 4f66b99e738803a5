import { mapCodePoints, type NormalizedString } from '../normalizedString.js';
import { isBertControl, isBertWhitespace, isChineseChar, isNonspacingMark } from '../unicode.js';
import { lowerCodePoint, lowercase } from './lowercase.js';
import type { Normalizer } from './normalizer.js';
import { normalizeForm } from './unicodeForm.js';

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** Options of `BertNormalizer`, as the fields of Hugging Face's `BertNormalizer` (the defaults are BERT's). */
export interface BertNormalizerOptions {
  /** Drop NUL, U+FFFD and control characters and turn other whitespace into spaces; default true. */
  cleanText?: boolean;
  /** Put spaces around CJK ideographs, so each becomes a word of its own; default true. */
  handleChineseChars?: boolean;
  /** null: strip accents when lowercasing (the BERT default). */
  stripAccents?: boolean | null;
  /** Lowercase the text; default true. */
  lowercase?: boolean;
}

/**
 * BERT's normalizer: drops NUL, U+FFFD and control characters and maps whitespace to spaces,
 * puts spaces around CJK ideographs, strips accents (NFD, then drops nonspacing marks) and lowercases.
 */
export class BertNormalizer implements Normalizer {
  readonly cleanText: boolean;
  readonly handleChineseChars: boolean;
  readonly stripAccents: boolean | null;
  readonly lowercase: boolean;

  constructor(options: BertNormalizerOptions = {}) {
    this.cleanText = options.cleanText ?? true;
    this.handleChineseChars = options.handleChineseChars ?? true;
    this.stripAccents = options.stripAccents ?? null;
    this.lowercase = options.lowercase ?? true;
  }

  /** Cleans the text, spaces out CJK ideographs, strips accents and lowercases, as configured. */
  normalize(ns: NormalizedString): NormalizedString {
    // Printable ASCII (most English captions): only lowercasing can change anything.
    if (PRINTABLE_ASCII.test(ns.text)) return this.lowercase ? lowercase(ns) : ns;
    const clean = this.cleanText;
    const chinese = this.handleChineseChars;
    const strip = this.stripAccents ?? this.lowercase;
    const lower = this.lowercase;
    // When NFD leaves the text as is, every step works per character: do them in one pass.
    const fused = !strip || ns.text.normalize('NFD') === ns.text;
    let out = mapCodePoints(ns, (cp) => {
      if (clean) {
        if (cp === 0xfffd || isBertControl(cp)) return '';
        if (cp !== 32 && isBertWhitespace(cp)) return ' ';
      }
      if (chinese && isChineseChar(cp)) return ` ${String.fromCodePoint(cp)} `;
      if (!fused) return undefined;
      if (strip && isNonspacingMark(cp)) return '';
      return lower ? lowerCodePoint(cp) : undefined;
    });
    if (fused) return out;
    out = normalizeForm(out, 'NFD');
    out = mapCodePoints(out, (cp) => (isNonspacingMark(cp) ? '' : undefined));
    return lower ? lowercase(out) : out;
  }

  toJSON(): Record<string, unknown> {
    return {
      type: 'BertNormalizer',
      clean_text: this.cleanText,
      handle_chinese_chars: this.handleChineseChars,
      strip_accents: this.stripAccents,
      lowercase: this.lowercase,
    };
  }
}
