import type { Encoding } from '../encoding.js';

/** Fourth pipeline stage: adds special tokens and merges a pair into one encoding. */
export interface PostProcessor {
  /** How many tokens `process` adds (used to leave room when truncating). */
  addedTokens(isPair: boolean): number;
  process(encoding: Encoding, pair: Encoding | null, addSpecialTokens: boolean): Encoding;
  toJSON(): Record<string, unknown>;
}
