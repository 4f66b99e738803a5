import { mapCodePoints, type NormalizedString } from '../normalizedString.js';
import { isMark } from '../unicode.js';
import type { Normalizer } from './normalizer.js';

/** Removes combining marks (run it after NFD/NFKD to strip accents). */
export class StripAccentsNormalizer implements Normalizer {
  normalize(ns: NormalizedString): NormalizedString {
    return mapCodePoints(ns, (cp) => (isMark(cp) ? '' : undefined));
  }
  toJSON(): Record<string, unknown> {
    return { type: 'StripAccents' };
  }
}
