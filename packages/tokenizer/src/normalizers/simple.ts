import { NormalizedBuilder, type NormalizedString } from '../normalizedString.js';
import { type Pattern, patternRegExp } from '../pattern.js';
import { isWhitespace } from '../unicode.js';
import type { Normalizer } from './normalizer.js';

/** Removes whitespace at the left and/or right end. */
export class StripNormalizer implements Normalizer {
  constructor(
    readonly left = true,
    readonly right = true,
  ) {}
  /** Trims whitespace at the ends chosen by `left` and `right`. */
  normalize(ns: NormalizedString): NormalizedString {
    const s = ns.text;
    let a = 0;
    let b = s.length;
    if (this.left) while (a < b && isWhitespace(s.codePointAt(a)!)) a += s.codePointAt(a)! > 0xffff ? 2 : 1;
    if (this.right) while (b > a && isWhitespace(s.charCodeAt(b - 1))) b--;
    return a === 0 && b === s.length ? ns : ns.slice(a, b);
  }
  toJSON(): Record<string, unknown> {
    return { type: 'Strip', strip_left: this.left, strip_right: this.right };
  }
}

/** Replaces every match of a string or regex pattern; the replacement maps to the matched range. */
export class ReplaceNormalizer implements Normalizer {
  private readonly re: RegExp;
  constructor(
    readonly pattern: Pattern,
    readonly content: string,
  ) {
    this.re = patternRegExp(pattern);
  }
  /** Replaces every non-empty match with `content`, which takes the original range of the match. */
  normalize(ns: NormalizedString): NormalizedString {
    const s = ns.text;
    if ('String' in this.pattern && (this.pattern.String.length === 0 || !s.includes(this.pattern.String))) return ns;
    const re = this.re;
    re.lastIndex = 0;
    let builder: NormalizedBuilder | null = null;
    let from = 0;
    for (let m = re.exec(s); m !== null; m = re.exec(s)) {
      const at = m.index;
      const end = at + m[0].length;
      if (end === at) {
        re.lastIndex++;
        continue;
      }
      builder ??= new NormalizedBuilder(ns, s.length + this.content.length * 4 + 16);
      builder.copy(from, at);
      builder.emit(this.content, ns.startOf(at), ns.endOf(end - 1));
      from = end;
    }
    if (builder === null) return ns;
    builder.copy(from, s.length);
    return builder.build();
  }
  toJSON(): Record<string, unknown> {
    return { type: 'Replace', pattern: this.pattern, content: this.content };
  }
}

/** Prepends a string (aligned with the first character) to non-empty text. */
export class PrependNormalizer implements Normalizer {
  constructor(readonly prepend: string) {}
  /** Prepends `prepend` unless the text is empty; the prefix takes the original range of the first character. */
  normalize(ns: NormalizedString): NormalizedString {
    if (ns.text.length === 0) return ns;
    const first = ns.text.codePointAt(0)! > 0xffff ? 2 : 1;
    const builder = new NormalizedBuilder(ns, ns.text.length + this.prepend.length);
    builder.emit(this.prepend + ns.text.slice(0, first), ns.startOf(0), ns.endOf(first - 1));
    builder.copy(first, ns.text.length);
    return builder.build();
  }
  toJSON(): Record<string, unknown> {
    return { type: 'Prepend', prepend: this.prepend };
  }
}

/** Applies normalizers in order. */
export class SequenceNormalizer implements Normalizer {
  constructor(readonly normalizers: Normalizer[]) {}
  /** Runs `ns` through each normalizer in order. */
  normalize(ns: NormalizedString): NormalizedString {
    let out = ns;
    for (const n of this.normalizers) out = n.normalize(out);
    return out;
  }
  toJSON(): Record<string, unknown> {
    return { type: 'Sequence', normalizers: this.normalizers.map((n) => n.toJSON()) };
  }
}
