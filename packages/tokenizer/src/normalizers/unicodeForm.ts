import { NormalizedBuilder, type NormalizedString } from '../normalizedString.js';
import { isMark } from '../unicode.js';
import type { Normalizer } from './normalizer.js';

/** A Unicode normalization form, as `String.prototype.normalize` takes it and tokenizer.json names the normalizer. */
export type UnicodeForm = 'NFC' | 'NFD' | 'NFKC' | 'NFKD';

/**
 * Applies a Unicode normalization form to a NormalizedString. The text is cut into segments
 * (a code point and the marks after it); in a changed segment output code points take the
 * ranges of input code points the way Hugging Face aligns composed/decomposed characters.
 */
export function normalizeForm(ns: NormalizedString, form: UnicodeForm): NormalizedString {
  const s = ns.text;
  if (s.normalize(form) === s) return ns;
  const builder = new NormalizedBuilder(ns, s.length + 16);
  let segStart = 0;
  let done = 0;
  const flush = (end: number) => {
    if (end <= segStart) return;
    const seg = s.slice(segStart, end);
    const out = seg.normalize(form);
    if (out !== seg) {
      builder.copy(done, segStart);
      const srcStarts: number[] = [];
      for (let i = segStart; i < end; i += s.codePointAt(i)! > 0xffff ? 2 : 1) srcStarts.push(i);
      let outCount = 0;
      for (let j = 0; j < out.length; j += out.codePointAt(j)! > 0xffff ? 2 : 1) outCount++;
      // Shorter output: the first character composed what follows it, the rest keep their sources
      // from the right. Longer output: extra characters share the last source.
      const shift = Math.max(0, srcStarts.length - outCount);
      let k = 0;
      for (let j = 0; j < out.length; k++) {
        const len = out.codePointAt(j)! > 0xffff ? 2 : 1;
        const src = srcStarts[Math.min(k === 0 ? 0 : k + shift, srcStarts.length - 1)];
        const srcLen = s.codePointAt(src)! > 0xffff ? 2 : 1;
        builder.emit(out.slice(j, j + len), ns.startOf(src), ns.endOf(src + srcLen - 1));
        j += len;
      }
      done = end;
    }
  };
  for (let i = 0; i < s.length; ) {
    const cp = s.codePointAt(i)!;
    if (!continuesSegment(cp)) {
      flush(i);
      segStart = i;
    }
    i += cp > 0xffff ? 2 : 1;
  }
  flush(s.length);
  builder.copy(done, s.length);
  return builder.build();
}

/** Marks and Hangul vowel/trailing jamo compose with what precedes them. */
function continuesSegment(cp: number): boolean {
  return (cp >= 0x1160 && cp <= 0x11ff) || (cp >= 0xd7b0 && cp <= 0xd7ff) || isMark(cp);
}

/** Applies a Unicode normalization form (Hugging Face `NFC`, `NFD`, `NFKC`, `NFKD`). */
export class UnicodeNormalizer implements Normalizer {
  constructor(readonly form: UnicodeForm) {}
  /** Applies `form`; composed or decomposed characters take their source characters' original ranges as in Hugging Face. */
  normalize(ns: NormalizedString): NormalizedString {
    return normalizeForm(ns, this.form);
  }
  toJSON(): Record<string, unknown> {
    return { type: this.form };
  }
}
