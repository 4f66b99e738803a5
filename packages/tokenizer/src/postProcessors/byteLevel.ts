import { Encoding } from '../encoding.js';
import { isWhitespace } from '../unicode.js';
import { type PostProcessor, processAndMerge } from './postProcessor.js';

const SPACE_CHAR = 0x120; // 'Ġ', the byte-level form of a space

/**
 * Moves offsets past the leading/trailing spaces of byte-level tokens (Hugging Face `process_offsets`).
 * Hugging Face trims offsets in characters (code points), after rounding byte offsets that fall inside
 * a character down to its start; with the input text at hand, so does this, on UTF-16 offsets.
 */
export function trimByteLevelOffsets(encoding: Encoding, addPrefixSpace: boolean): void {
  for (const o of encoding.overflowing) trimByteLevelOffsets(o, addPrefixSpace);
  const text = encoding.text;
  for (let i = 0; i < encoding.ids.length; i++) {
    const token = encoding.tokens[i];
    let lead = 0;
    while (lead < token.length && isSpace(token, lead)) lead++;
    let trail = 0;
    while (trail < token.length && isSpace(token, token.length - 1 - trail)) trail++;
    if (lead === 0 && trail === 0) continue;
    let [start, end] = encoding.offsets[i];
    // A prefix space shares the range of the character after it, and a token can end inside that
    // character; when it is a surrogate pair, such positions round down to the pair's start.
    if (text !== undefined) {
      start = charStart(text, start);
      end = charStart(text, end);
    }
    if (lead > 0) {
      const isFirst = i === 0 || start === 0;
      if (isFirst && addPrefixSpace && lead === 1) lead = 0;
      start = Math.min(charsForward(text, start, lead), end);
    }
    if (trail > 0) {
      const back = charsBack(text, end, trail);
      if (back !== null) end = Math.max(back, start);
    }
    encoding.offsets[i] = [start, end];
  }
}

function isPairAt(text: string, i: number): boolean {
  const hi = text.charCodeAt(i);
  const lo = text.charCodeAt(i + 1);
  return hi >= 0xd800 && hi <= 0xdbff && lo >= 0xdc00 && lo <= 0xdfff;
}

/** `i`, or the start of the surrogate pair it falls inside. */
function charStart(text: string, i: number): number {
  return i > 0 && isPairAt(text, i - 1) ? i - 1 : i;
}

/** The position `n` characters after `i` (UTF-16 units without the text). */
function charsForward(text: string | undefined, i: number, n: number): number {
  if (text === undefined) return i + n;
  for (let k = 0; k < n; k++) i += isPairAt(text, i) ? 2 : 1;
  return i;
}

/** The position `n` characters before `i`, or null when fewer than `n` precede it. */
function charsBack(text: string | undefined, i: number, n: number): number | null {
  if (text === undefined) return i >= n ? i - n : null;
  for (let k = 0; k < n; k++) {
    if (i <= 0) return null;
    i -= i >= 2 && isPairAt(text, i - 2) ? 2 : 1;
  }
  return i;
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
    return processAndMerge(this, encoding, pair, false);
  }
  /**
   * With `trimOffsets`, trims the offsets of each encoding (and its overflowing windows) in place, each
   * on its own; returns the same list, unmerged.
   */
  processEncodings(encodings: Encoding[]): Encoding[] {
    // Hugging Face also renumbers the sequence ids here by list position; ours are per token, set when
    // each input is encoded, and stay (they differ only when a template ran before, splitting the list).
    if (this.trimOffsets) for (const e of encodings) trimByteLevelOffsets(e, this.addPrefixSpace);
    return encodings;
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
   * Runs the processors in order on the inputs kept apart (`processEncodings`), then merges once at
   * the end, as Hugging Face does: so in `[ByteLevel, TemplateProcessing]` (Llama 3) the template
   * still sees a pair as a pair.
   */
  process(encoding: Encoding, pair: Encoding | null, addSpecialTokens: boolean): Encoding {
    return processAndMerge(this, encoding, pair, addSpecialTokens);
  }
  /** Feeds the list through each processor's `processEncodings` in order; returns the last one's pieces, unmerged. */
  processEncodings(encodings: Encoding[], addSpecialTokens: boolean): Encoding[] {
    let out = encodings;
    for (const p of this.processors) out = p.processEncodings(out, addSpecialTokens);
    return out;
  }
  /** The tokenizer.json `post_processor` section: `{ type: 'Sequence', processors: [...] }`. */
  toJSON(): Record<string, unknown> {
    return { type: 'Sequence', processors: this.processors.map((p) => p.toJSON()) };
  }
}
