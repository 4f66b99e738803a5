import type { NormalizedString } from '../normalizedString.js';
import { PrependNormalizer, ReplaceNormalizer } from '../normalizers/simple.js';
import type { PreTokenizer } from './preTokenizer.js';
import { splitByPredicate } from './split.js';

/** SentencePiece-style: spaces become `replacement` (▁), one is prepended, words start at each ▁. */
export class MetaspacePreTokenizer implements PreTokenizer {
  readonly byteLevel = false;
  private readonly replace: ReplaceNormalizer;
  private readonly prepend: PrependNormalizer;
  private readonly cp: number;

  constructor(
    readonly replacement = '▁',
    readonly prependScheme: 'always' | 'first' | 'never' = 'always',
    readonly splitWords = true,
  ) {
    this.replace = new ReplaceNormalizer({ String: ' ' }, replacement);
    this.prepend = new PrependNormalizer(replacement);
    this.cp = replacement.codePointAt(0) ?? 0x2581;
  }

  prepare(ns: NormalizedString): NormalizedString {
    const out = this.replace.normalize(ns);
    if (out.text.length === 0 || out.text.startsWith(this.replacement)) return out;
    if (this.prependScheme === 'always' || (this.prependScheme === 'first' && out.startOf(0) === 0)) return this.prepend.normalize(out);
    return out;
  }

  split(text: string, spans: number[]): number[] {
    return this.splitWords ? splitByPredicate(text, spans, (cp) => cp === this.cp, 'MergedWithNext') : spans;
  }

  /** The tokenizer.json `pre_tokenizer` section: `{ type: 'Metaspace', replacement, prepend_scheme, split }`. */
  toJSON(): Record<string, unknown> {
    return { type: 'Metaspace', replacement: this.replacement, prepend_scheme: this.prependScheme, split: this.splitWords };
  }
}
