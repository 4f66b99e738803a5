import { mapCodePoints, type NormalizedString } from '../normalizedString.js';
import { isCombiningMark } from '../unicode.js';
import type { Normalizer } from './normalizer.js';

/** Removes combining marks, as the Rust library's tables define them (run it after NFD/NFKD to strip accents). */
export class StripAccentsNormalizer implements Normalizer {
  /** Removes every combining mark; precomposed characters such as `é` stay unless decomposed first. */
  normalize(ns: NormalizedString): NormalizedString {
    return mapCodePoints(ns, (cp) => (isCombiningMark(cp) ? '' : undefined));
  }
  toJSON(): Record<string, unknown> {
    return { type: 'StripAccents' };
  }
}
