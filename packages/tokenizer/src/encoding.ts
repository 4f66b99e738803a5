import { TesseraError } from '@tessera/base';

/** The per-token arrays of an Encoding: every copy, slice or append goes through this one list. */
const TOKEN_FIELDS = ['ids', 'typeIds', 'tokens', 'offsets', 'specialTokensMask', 'attentionMask', 'sequenceIds', 'wordIds'] as const;

function tokenArrays(e: Encoding): Record<(typeof TOKEN_FIELDS)[number], unknown[]> {
  return e as unknown as Record<(typeof TOKEN_FIELDS)[number], unknown[]>;
}

/** The output of encoding one text (or pair): ids plus everything a model or a UI needs. */
export class Encoding {
  /** The input text the offsets point into, while the encoding covers a single input. */
  text?: string;

  constructor(
    public ids: number[],
    public typeIds: number[],
    public tokens: string[],
    /** [start, end) in UTF-16 units of the input text ((0, 0) for added special tokens and padding). */
    public offsets: Array<[number, number]>,
    public specialTokensMask: number[],
    public attentionMask: number[],
    /** Which input (0 or 1) each token comes from; null for special tokens and padding. */
    public sequenceIds: Array<number | null>,
    /** Index of the pre-tokenized word each token comes from (for whole-word masking); null for special tokens and padding. */
    public wordIds: Array<number | null>,
    /** The windows that truncation cut off, each a full encoding. */
    public overflowing: Encoding[] = [],
  ) {}

  /** An encoding with no tokens (what `merge` and `slice` build on). */
  static empty(): Encoding {
    return new Encoding([], [], [], [], [], [], [], []);
  }

  /** Special tokens added by a post-processor: offsets (0, 0), attended, no sequence or word. */
  static special(ids: number[], tokens: string[], typeId: number): Encoding {
    const n = ids.length;
    return new Encoding(
      ids.slice(),
      new Array<number>(n).fill(typeId),
      tokens.slice(),
      Array.from({ length: n }, () => [0, 0] as [number, number]),
      new Array<number>(n).fill(1),
      new Array<number>(n).fill(1),
      new Array<number | null>(n).fill(null),
      new Array<number | null>(n).fill(null),
    );
  }

  get length(): number {
    return this.ids.length;
  }

  /**
   * A copy with its own token arrays (the `[start, end]` pairs of `offsets` are shared) and cloned
   * overflowing windows.
   */
  clone(): Encoding {
    const out = this.slice(0, this.length);
    out.overflowing = this.overflowing.map((o) => o.clone());
    return out;
  }

  /** Tokens [a, b) as a new encoding (no overflowing windows). */
  slice(a: number, b: number): Encoding {
    const out = Encoding.empty();
    const from = tokenArrays(this);
    const to = tokenArrays(out);
    for (const f of TOKEN_FIELDS) to[f] = from[f].slice(a, b);
    out.text = this.text;
    return out;
  }

  /**
   * Appends the tokens of `other` (not its overflowing windows); `typeId`, when given, replaces
   * their type ids.
   */
  append(other: Encoding, typeId?: number): void {
    const from = tokenArrays(other);
    const to = tokenArrays(this);
    for (const f of TOKEN_FIELDS) {
      const src = from[f];
      const dst = to[f];
      if (f === 'typeIds' && typeId !== undefined) for (let i = 0; i < src.length; i++) dst.push(typeId);
      else for (let i = 0; i < src.length; i++) dst.push(src[i]);
    }
  }

  /** Appends `pair`; overflowing windows combine as Hugging Face's `merge_with` (every pairing). */
  mergeWith(pair: Encoding): void {
    const overflowing: Encoding[] = [];
    for (const selfO of this.overflowing) {
      const a = selfO.clone();
      a.mergeWith(pair.clone());
      overflowing.push(a);
      for (const otherO of pair.overflowing) {
        const b = selfO.clone();
        b.mergeWith(otherO.clone());
        overflowing.push(b);
      }
    }
    for (const otherO of pair.overflowing) {
      const c = this.clone();
      c.overflowing = [];
      c.mergeWith(otherO.clone());
      overflowing.push(c);
    }
    this.append(pair);
    this.overflowing = overflowing;
  }

  /**
   * Concatenates `encodings` in order into a new encoding, combining their overflowing windows as
   * `mergeWith` does (Hugging Face `Encoding::merge`); the inputs are left unchanged.
   */
  static merge(encodings: Encoding[]): Encoding {
    const out = Encoding.empty();
    for (const e of encodings) out.mergeWith(e);
    return out;
  }

  /**
   * Keeps `maxLength` tokens; the rest go to `overflowing` in windows of `maxLength` that
   * overlap by `stride` tokens (Hugging Face `Encoding::truncate`).
   */
  truncate(maxLength: number, stride: number, direction: 'right' | 'left'): void {
    const n = this.ids.length;
    if (maxLength >= n) return;
    if (maxLength === 0) {
      const all = this.clone();
      all.overflowing = [];
      const e = Encoding.empty();
      this.assign(e);
      this.overflowing = [all];
      return;
    }
    if (stride >= maxLength) {
      throw new TesseraError(
        'E_TRUNCATION',
        `Truncation stride ${stride} must be smaller than the ${maxLength} tokens kept from this input; lower the stride or raise maxLength.`,
        { details: { field: 'stride' } },
      );
    }
    const step = maxLength - stride;
    const ranges: Array<[number, number]> = [];
    if (direction === 'right') {
      for (let start = 0; start < n; start += step) {
        const stop = Math.min(start + maxLength, n);
        ranges.push([start, stop]);
        if (stop === n) break;
      }
    } else {
      for (let last = n - 1; last >= 0; last -= step) {
        const stop = last + 1;
        const start = stop < maxLength ? 0 : stop - maxLength;
        ranges.push([start, stop]);
        if (start === 0) break;
      }
    }
    const main = this.slice(ranges[0][0], ranges[0][1]);
    main.overflowing = ranges.slice(1).map(([a, b]) => this.slice(a, b));
    this.assign(main);
  }

  /** Pads to `length` tokens on the given side. */
  pad(length: number, padId: number, padTypeId: number, padToken: string, direction: 'right' | 'left'): void {
    for (const o of this.overflowing) o.pad(length, padId, padTypeId, padToken, direction);
    const n = length - this.ids.length;
    if (n <= 0) return;
    const fill = <T>(arr: T[], v: T): T[] => {
      const extra = new Array<T>(n).fill(v);
      return direction === 'right' ? arr.concat(extra) : extra.concat(arr);
    };
    this.ids = fill(this.ids, padId);
    this.typeIds = fill(this.typeIds, padTypeId);
    this.tokens = fill(this.tokens, padToken);
    this.specialTokensMask = fill(this.specialTokensMask, 1);
    this.attentionMask = fill(this.attentionMask, 0);
    this.sequenceIds = fill<number | null>(this.sequenceIds, null);
    this.wordIds = fill<number | null>(this.wordIds, null);
    const offsets = new Array<[number, number]>(n);
    for (let i = 0; i < n; i++) offsets[i] = [0, 0];
    this.offsets = direction === 'right' ? this.offsets.concat(offsets) : offsets.concat(this.offsets);
  }

  private assign(e: Encoding): void {
    const from = tokenArrays(e);
    const to = tokenArrays(this);
    for (const f of TOKEN_FIELDS) to[f] = from[f];
    this.overflowing = e.overflowing;
  }
}
