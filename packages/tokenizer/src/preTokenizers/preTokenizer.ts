/** Second pipeline stage: cuts the normalized text into words the model tokenizes one by one. */
export interface PreTokenizer {
  /** Splits `spans` ([start0, end0, start1, end1, ...] ranges of `text`) into finer spans. */
  split(text: string, spans: number[]): number[];
  /** Whether words reach the model as UTF-8 bytes (a ByteLevel stage is present). */
  readonly byteLevel: boolean;
  /** Whether a space is prepended to text that does not start with one (ByteLevel `add_prefix_space`). */
  readonly addPrefixSpace: boolean;
  toJSON(): Record<string, unknown>;
}
