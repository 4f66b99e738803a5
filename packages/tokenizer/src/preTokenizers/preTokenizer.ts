import type { NormalizedString } from '../normalizedString.js';

/** Second pipeline stage: cuts the normalized text into words the model tokenizes one by one. */
export interface PreTokenizer {
  /** Rewrites a segment before splitting (prefix space, Metaspace's ▁); most return it as is. */
  prepare(ns: NormalizedString): NormalizedString;
  /** Splits `spans` ([start0, end0, start1, end1, ...] ranges of `text`) into finer spans. */
  split(text: string, spans: number[]): number[];
  /** Whether words reach the model as UTF-8 bytes (a ByteLevel stage is present). */
  readonly byteLevel: boolean;
  /** The tokenizer.json `pre_tokenizer` section that rebuilds this stage (read by `preTokenizerFromJSON`). */
  toJSON(): Record<string, unknown>;
}
