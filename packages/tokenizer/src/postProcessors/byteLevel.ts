import { Encoding } from '../encoding.js';
import { isWhitespace } from '../unicode.js';
import type { PostProcessor } from './postProcessor.js';

const SPACE_CHAR = 0x120; // 'Ġ', the byte-level form of a space

/** Moves offsets past the leading/trailing spaces of byte-level tokens (Hugging Face `process_offsets`). */
export function trimByteLevelOffsets(encoding: Encoding, addPrefixSpace: boolean): void {
  for (const o of encoding.overflowing) trimByteLevelOffsets(o, addPrefixSpace);
  for (let i = 0; i < encoding.ids.length; i++) {
    const token = encoding.tokens[i];
    let lead = 0;
    while (lead < token.length && isSpace(token, lead)) lead++;
    let trail = 0;
    while (trail < token.length && isSpace(token, token.length - 1 - trail)) trail++;
    if (lead === 0 && trail === 0) continue;
    const off = encoding.offsets[i];
    let [start, end] = off;
    if (lead > 0) {
      const isFirst = i === 0 || start === 0;
      if (isFirst && addPrefixSpace && lead === 1) lead = 0;
      start = Math.min(start + lead, end);
    }
    if (trail > 0 && end >= trail) end = Math.max(end - trail, start);
    // A prefix space shares the range of the character after it; when that character is a surrogate
    // pair, snap inside-pair positions down to its start, as the Rust library's byte -> char conversion does.
    const text = encoding.text;
    if (text !== undefined) {
      if (start > 0 && isLowSurrogateAt(text, start)) start--;
      if (end > 0 && isLowSurrogateAt(text, end)) end--;
    }
    encoding.offsets[i] = [start, end];
  }
}

function isLowSurrogateAt(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  return c >= 0xdc00 && c <= 0xdfff && i > 0 && text.charCodeAt(i - 1) >= 0xd800 && text.charCodeAt(i - 1) <= 0xdbff;
}

function isSpace(token: string, i: number): boolean {
  const c = token.charCodeAt(i);
  return c === SPACE_CHAR || isWhitespace(c);
}

/** Byte-level post-processing: optional offset trimming; inputs are merged without special tokens. */
export class ByteLevelProcessing implements PostProcessor {
  constructor(
    readonly trimOffsets = true,
    readonly addPrefixSpace = true,
    readonly useRegex = true,
  ) {}
  addedTokens(): number {
    return 0;
  }
  /**
   * With `trimOffsets`, moves token offsets past their leading and trailing spaces (`Ġ`) in place; then
   * appends `pair` as is. Adds no special tokens.
   */
  process(encoding: Encoding, pair: Encoding | null): Encoding {
    if (this.trimOffsets) {
      trimByteLevelOffsets(encoding, this.addPrefixSpace);
      if (pair !== null) trimByteLevelOffsets(pair, this.addPrefixSpace);
    }
    return defaultProcess(encoding, pair);
  }
  /** The tokenizer.json `post_processor` section: `{ type: 'ByteLevel', add_prefix_space, trim_offsets, use_regex }`. */
  toJSON(): Record<string, unknown> {
    return { type: 'ByteLevel', add_prefix_space: this.addPrefixSpace, trim_offsets: this.trimOffsets, use_regex: this.useRegex };
  }
}

/** What happens without a post-processor: the pair is appended as is. */
export function defaultProcess(encoding: Encoding, pair: Encoding | null): Encoding {
  return pair === null ? encoding : Encoding.merge([encoding, pair]);
}

/** Applies post-processors in order (Hugging Face `Sequence`). */
export class SequenceProcessing implements PostProcessor {
  constructor(readonly processors: PostProcessor[]) {}
  addedTokens(isPair: boolean): number {
    return this.processors.reduce((n, p) => n + p.addedTokens(isPair), 0);
  }
  /**
   * Runs the processors in order. Only the first one gets `pair`, so it must be the one that merges it:
   * later processors see the merged encoding as a single input.
   */
  process(encoding: Encoding, pair: Encoding | null, addSpecialTokens: boolean): Encoding {
    // Each processor sees the inputs separately until the one that merges them.
    let out = encoding;
    let second = pair;
    for (const p of this.processors) {
      out = p.process(out, second, addSpecialTokens);
      second = null;
    }
    return out;
  }
  /** The tokenizer.json `post_processor` section: `{ type: 'Sequence', processors: [...] }`. */
  toJSON(): Record<string, unknown> {
    return { type: 'Sequence', processors: this.processors.map((p) => p.toJSON()) };
  }
}
