import { NormalizedBuilder, type NormalizedString } from '../normalizedString.js';
import { isWhitespace } from '../unicode.js';
import type { Normalizer } from './normalizer.js';

/** Removes whitespace at the left and/or right end. */
export class StripNormalizer implements Normalizer {
  constructor(
    readonly left = true,
    readonly right = true,
  ) {}
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

/** Replaces every occurrence of a literal string. */
export class ReplaceNormalizer implements Normalizer {
  constructor(
    readonly pattern: string,
    readonly content: string,
  ) {}
  normalize(ns: NormalizedString): NormalizedString {
    const s = ns.text;
    if (this.pattern.length === 0 || !s.includes(this.pattern)) return ns;
    const builder = new NormalizedBuilder(ns);
    let from = 0;
    for (let at = s.indexOf(this.pattern); at >= 0; at = s.indexOf(this.pattern, from)) {
      builder.copy(from, at);
      builder.emit(this.content, ns.startOf(at), ns.endOf(at + this.pattern.length - 1));
      from = at + this.pattern.length;
    }
    builder.copy(from, s.length);
    return builder.build();
  }
  toJSON(): Record<string, unknown> {
    return { type: 'Replace', pattern: { String: this.pattern }, content: this.content };
  }
}

/** Prepends a string (aligned with the first character) to non-empty text. */
export class PrependNormalizer implements Normalizer {
  constructor(readonly prepend: string) {}
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
  normalize(ns: NormalizedString): NormalizedString {
    let out = ns;
    for (const n of this.normalizers) out = n.normalize(out);
    return out;
  }
  toJSON(): Record<string, unknown> {
    return { type: 'Sequence', normalizers: this.normalizers.map((n) => n.toJSON()) };
  }
}
