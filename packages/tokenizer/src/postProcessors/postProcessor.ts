import type { Encoding } from '../encoding.js';

/** Fourth pipeline stage: adds special tokens and merges a pair into one encoding. */
export interface PostProcessor {
  /** How many tokens `process` adds (used to leave room when truncating). */
  addedTokens(isPair: boolean): number;
  /**
   * Adds the special tokens (when `addSpecialTokens`) and merges `pair`, if any, after `encoding`; may
   * modify the inputs and return one of them.
   */
  process(encoding: Encoding, pair: Encoding | null, addSpecialTokens: boolean): Encoding;
  /** The tokenizer.json `post_processor` section that rebuilds this stage (read by `postProcessorFromJSON`). */
  toJSON(): Record<string, unknown>;
}
