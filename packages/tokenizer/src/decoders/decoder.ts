/** Last pipeline stage: turns tokens back into text. */
export interface Decoder {
  /** Rewrites tokens one by one (stages chain); the decoded text is the concatenation. */
  decodeChain(tokens: string[]): string[];
  /** The tokenizer.json `decoder` section that rebuilds this decoder (read by `decoderFromJSON`). */
  toJSON(): Record<string, unknown>;
}
