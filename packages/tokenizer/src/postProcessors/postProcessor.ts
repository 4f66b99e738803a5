import { Encoding } from '../encoding.js';

/** Fourth pipeline stage: adds special tokens and merges a pair into one encoding. */
export interface PostProcessor {
  /** How many tokens `process` adds (used to leave room when truncating). */
  addedTokens(isPair: boolean): number;
  /**
   * Adds the special tokens (when `addSpecialTokens`) and merges `pair`, if any, after `encoding`; may
   * modify the inputs and return one of them. Gives the same result as merging what
   * `processEncodings` returns for `[encoding]` or `[encoding, pair]` (see `processAndMerge`).
   */
  process(encoding: Encoding, pair: Encoding | null, addSpecialTokens: boolean): Encoding;
  /**
   * The unmerged form (Hugging Face `process_encodings`): takes the inputs as a list (one encoding, or
   * two for a pair) and returns the pieces in order, to be merged by the caller; a template returns
   * its special tokens as pieces of their own. `SequenceProcessing` chains processors through this,
   * so each one still sees the inputs apart. May modify the inputs and return them.
   */
  processEncodings(encodings: Encoding[], addSpecialTokens: boolean): Encoding[];
  /** The tokenizer.json `post_processor` section that rebuilds this stage (read by `postProcessorFromJSON`). */
  toJSON(): Record<string, unknown>;
}

/**
 * `process` in terms of `processEncodings` (the Hugging Face trait's default `process`): runs it on
 * `[encoding]` or `[encoding, pair]` and merges the pieces, returning a lone piece as it is.
 */
export function processAndMerge(processor: PostProcessor, encoding: Encoding, pair: Encoding | null, addSpecialTokens: boolean): Encoding {
  const pieces = processor.processEncodings(pair === null ? [encoding] : [encoding, pair], addSpecialTokens);
  return pieces.length === 1 ? pieces[0] : Encoding.merge(pieces);
}
