import { mapCodePoints, NormalizedString } from '../normalizedString.js';
import type { Normalizer } from './normalizer.js';

const cache = new Map<number, string | undefined>();

/** Lowercases one code point on its own (no context rules such as final sigma), as Rust's `char::to_lowercase`. */
export function lowerCodePoint(cp: number): string | undefined {
  if (cp < 128) return cp >= 65 && cp <= 90 ? String.fromCharCode(cp + 32) : undefined;
  let out = cache.get(cp);
  if (out === undefined && !cache.has(cp)) {
    const ch = String.fromCodePoint(cp);
    const lower = ch.toLowerCase();
    out = lower === ch ? undefined : lower;
    cache.set(cp, out);
  }
  return out;
}

export function lowercase(ns: NormalizedString): NormalizedString {
  const lower = ns.text.toLowerCase();
  if (lower === ns.text) return ns;
  // Same length: no character expanded, and per-character and whole-string mappings agree
  // unless a final sigma was rewritten, which only happens with U+03A3 present.
  if (lower.length === ns.text.length && !ns.text.includes('\u03a3')) return new NormalizedString(lower, ns.align, ns.base);
  return mapCodePoints(ns, lowerCodePoint);
}

/** Lowercases every code point (Hugging Face `Lowercase`). */
export class LowercaseNormalizer implements Normalizer {
  /** Lowercases each code point on its own, as Rust's `char::to_lowercase` (no final-sigma rule). */
  normalize(ns: NormalizedString): NormalizedString {
    return lowercase(ns);
  }
  toJSON(): Record<string, unknown> {
    return { type: 'Lowercase' };
  }
}
