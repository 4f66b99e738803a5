import { asObject, badField, getBool, getInt, getString } from './json.js';
import { patternRegExp } from './pattern.js';
import { isWhitespace, WORD } from './unicode.js';

/** A token matched in the text before the model sees it (special tokens such as `[CLS]`, `<|endoftext|>`). */
export interface AddedToken {
  id: number;
  content: string;
  /** Match only as a whole word. */
  singleWord: boolean;
  /** Absorb whitespace on the left / right. */
  lstrip: boolean;
  rstrip: boolean;
  /** Match against normalized text (true) or the raw input (false). */
  normalized: boolean;
  /** Skipped by `decode(..., { skipSpecialTokens: true })`. */
  special: boolean;
}

/**
 * Parses one entry of a tokenizer.json `added_tokens` array (snake_case fields; `single_word`, `lstrip`, `rstrip`
 * and `special` default to false, `normalized` to true). Throws `E_TOKENIZER_JSON` naming the field under `path`
 * when one is missing or mistyped, or `content` is empty.
 */
export function addedTokenFromJSON(value: unknown, path: string): AddedToken {
  const o = asObject(value, path);
  const content = getString(o, 'content', path);
  if (content.length === 0) throw badField(`${path}.content`, 'must not be empty');
  return {
    id: getInt(o, 'id', path),
    content,
    singleWord: getBool(o, 'single_word', path, false),
    lstrip: getBool(o, 'lstrip', path, false),
    rstrip: getBool(o, 'rstrip', path, false),
    normalized: getBool(o, 'normalized', path, true),
    special: getBool(o, 'special', path, false),
  };
}

export function addedTokenToJSON(t: AddedToken): Record<string, unknown> {
  return {
    id: t.id,
    content: t.content,
    single_word: t.singleWord,
    lstrip: t.lstrip,
    rstrip: t.rstrip,
    normalized: t.normalized,
    special: t.special,
  };
}

const WORD_RE = new RegExp(`[${WORD}]`, 'u');

/** Segment of a text: [start, end) and the added token id there, or -1 for ordinary text. */
export type Segment = [start: number, end: number, id: number];

/** Finds added tokens in text: leftmost match, longest content first. */
export class AddedTokenMatcher {
  private readonly re: RegExp | null;
  private readonly byContent: Map<string, AddedToken>;

  constructor(tokens: AddedToken[], contentOf: (t: AddedToken) => string = (t) => t.content) {
    this.byContent = new Map();
    for (const t of tokens) {
      const c = contentOf(t);
      if (c.length > 0 && !this.byContent.has(c)) this.byContent.set(c, t);
    }
    const contents = [...this.byContent.keys()].sort((a, b) => b.length - a.length);
    this.re = contents.length === 0 ? null : new RegExp(contents.map((c) => patternRegExp({ String: c }).source).join('|'), 'gu');
  }

  /** Splits `text` into ordinary and added-token segments covering it in order. */
  split(text: string): Segment[] {
    if (this.re === null || text.length === 0) return [[0, text.length, -1]];
    const out: Segment[] = [];
    let from = 0;
    this.re.lastIndex = 0;
    for (let m = this.re.exec(text); m !== null; m = this.re.exec(text)) {
      const t = this.byContent.get(m[0])!;
      let start = m.index;
      let end = start + m[0].length;
      if (t.singleWord) {
        const before = start > 0 && WORD_RE.test(String.fromCodePoint(text.codePointAt(start - 1)!));
        const after = end < text.length && WORD_RE.test(String.fromCodePoint(text.codePointAt(end)!));
        if (before || after) {
          this.re.lastIndex = start + 1;
          continue;
        }
      }
      if (t.lstrip) while (start > from && isWhitespace(text.charCodeAt(start - 1))) start--;
      if (t.rstrip) while (end < text.length && isWhitespace(text.charCodeAt(end))) end++;
      if (start > from) out.push([from, start, -1]);
      out.push([start, end, t.id]);
      from = end;
      this.re.lastIndex = end;
    }
    if (from < text.length) out.push([from, text.length, -1]);
    return out;
  }
}

/** A special added token (not normalized, matched anywhere) for `content` with `id`. */
export function specialToken(content: string, id: number): AddedToken {
  return { id, content, singleWord: false, lstrip: false, rstrip: false, normalized: false, special: true };
}
