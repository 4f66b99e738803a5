import type { NormalizedString } from '../normalizedString.js';

/** First pipeline stage: rewrites the text, keeping every unit's original range. */
export interface Normalizer {
  /** Returns the rewritten text with the original range of every unit; `ns` itself when nothing changes. */
  normalize(ns: NormalizedString): NormalizedString;
  /** The tokenizer.json section that rebuilds this normalizer. */
  toJSON(): Record<string, unknown>;
}
