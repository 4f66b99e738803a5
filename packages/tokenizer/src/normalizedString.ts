/**
 * A string being normalized, with the original range of every UTF-16 unit, so that token
 * offsets always point into the text the caller passed (as Hugging Face's NormalizedString).
 * `align` is null while the text is an unchanged slice of the original starting at `base`.
 */
export class NormalizedString {
  constructor(
    readonly text: string,
    /** [start0, end0, start1, end1, ...] original offsets per unit, or null for identity. */
    readonly align: Int32Array | null,
    readonly base: number,
  ) {}

  /** Unchanged `text` whose unit `i` maps to original offset `base + i` (`base`: where `text` starts in the caller's input). */
  static of(text: string, base = 0): NormalizedString {
    return new NormalizedString(text, null, base);
  }

  /** Original start offset (UTF-16) of normalized unit `i`; inserted units share the range of what they replaced. */
  startOf(i: number): number {
    return this.align === null ? this.base + i : this.align[2 * i];
  }

  /** Original end offset (exclusive, UTF-16) of normalized unit `i`. */
  endOf(i: number): number {
    return this.align === null ? this.base + i + 1 : this.align[2 * i + 1];
  }

  /** Original [start, end) of the normalized range [a, b). */
  original(a: number, b: number): [number, number] {
    if (this.align === null) return [this.base + a, this.base + b];
    if (a >= b) {
      const at = a < this.text.length ? this.align[2 * a] : this.text.length > 0 ? this.align[2 * this.text.length - 1] : this.base;
      return [at, at];
    }
    return [this.align[2 * a], this.align[2 * b - 1]];
  }

  /** Normalized units [a, b) as a NormalizedString that keeps their original offsets. */
  slice(a: number, b: number): NormalizedString {
    if (this.align === null) return new NormalizedString(this.text.slice(a, b), null, this.base + a);
    return new NormalizedString(this.text.slice(a, b), this.align.slice(2 * a, 2 * b), this.base);
  }
}

/** Builds a new NormalizedString from runs copied unchanged and replacement strings. */
export class NormalizedBuilder {
  private readonly parts: string[] = [];
  private align: Int32Array;
  private n = 0;

  constructor(
    private readonly src: NormalizedString,
    capacity = src.text.length + 16,
  ) {
    this.align = new Int32Array(2 * capacity);
  }

  private reserve(extra: number): void {
    if (2 * (this.n + extra) <= this.align.length) return;
    const grown = new Int32Array(Math.max(this.align.length * 2, 2 * (this.n + extra)));
    grown.set(this.align.subarray(0, 2 * this.n));
    this.align = grown;
  }

  /** Copies source units [a, b) with their alignment. */
  copy(a: number, b: number): void {
    if (b <= a) return;
    this.parts.push(this.src.text.slice(a, b));
    this.reserve(b - a);
    const src = this.src;
    if (src.align === null) {
      for (let i = a; i < b; i++) {
        this.align[2 * this.n] = src.base + i;
        this.align[2 * this.n + 1] = src.base + i + 1;
        this.n++;
      }
    } else {
      this.align.set(src.align.subarray(2 * a, 2 * b), 2 * this.n);
      this.n += b - a;
    }
  }

  /** Appends `out`; every unit of it maps to the original range [start, end). */
  emit(out: string, start: number, end: number): void {
    if (out.length === 0) return;
    this.parts.push(out);
    this.reserve(out.length);
    for (let i = 0; i < out.length; i++) {
      this.align[2 * this.n] = start;
      this.align[2 * this.n + 1] = end;
      this.n++;
    }
  }

  build(): NormalizedString {
    return new NormalizedString(this.parts.join(''), this.align.subarray(0, 2 * this.n), this.src.base);
  }
}

/**
 * Rebuilds `ns` replacing code points: `f` returns undefined to keep a code point, or its
 * replacement (possibly empty), which inherits the code point's original range.
 */
export function mapCodePoints(ns: NormalizedString, f: (cp: number) => string | undefined): NormalizedString {
  const s = ns.text;
  let builder: NormalizedBuilder | null = null;
  let runStart = 0;
  for (let i = 0; i < s.length; ) {
    const cp = s.codePointAt(i)!;
    const len = cp > 0xffff ? 2 : 1;
    const out = f(cp);
    if (out !== undefined) {
      // Room for replacements up to three times longer (BERT spaces around CJK) without regrowing.
      builder ??= new NormalizedBuilder(ns, 3 * s.length + 16);
      builder.copy(runStart, i);
      builder.emit(out, ns.startOf(i), ns.endOf(i + len - 1));
      runStart = i + len;
    }
    i += len;
  }
  if (builder === null) return ns;
  builder.copy(runStart, s.length);
  return builder.build();
}
