import type { NormalizedString } from '../normalizedString.js';
import { PrependNormalizer } from '../normalizers/simple.js';
import { WS } from '../unicode.js';
import type { PreTokenizer } from './preTokenizer.js';
import { splitByRegex } from './split.js';

/**
 * GPT-2's split pattern with Oniguruma's `\s` (White_Space) spelled out, since JavaScript's `\s`
 * differs. Linear: no nested quantifiers.
 */
export const GPT2_PATTERN = `'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^${WS}\\p{L}\\p{N}]+|[${WS}]+(?![^${WS}])|[${WS}]+`;

const PREFIX_SPACE = new PrependNormalizer(' ');

/**
 * Byte-level pre-tokenizer: optional GPT-2 split; words then reach the model as UTF-8 bytes.
 * The defaults are Hugging Face's (`ByteLevel()` in `tokenizers`): a prefix space, the regex,
 * trimmed offsets.
 */
export class ByteLevelPreTokenizer implements PreTokenizer {
  readonly byteLevel = true;
  private readonly re = new RegExp(GPT2_PATTERN, 'gu');
  constructor(
    readonly addPrefixSpace = true,
    readonly useRegex = true,
    readonly trimOffsets = true,
  ) {}
  prepare(ns: NormalizedString): NormalizedString {
    return this.addPrefixSpace && ns.text.length > 0 && ns.text.charCodeAt(0) !== 32 ? PREFIX_SPACE.normalize(ns) : ns;
  }
  split(text: string, spans: number[]): number[] {
    return this.useRegex ? splitByRegex(text, spans, this.re, 'Isolated') : spans;
  }
  /** The tokenizer.json `pre_tokenizer` section: `{ type: 'ByteLevel', add_prefix_space, trim_offsets, use_regex }`. */
  toJSON(): Record<string, unknown> {
    return { type: 'ByteLevel', add_prefix_space: this.addPrefixSpace, trim_offsets: this.trimOffsets, use_regex: this.useRegex };
  }
}
