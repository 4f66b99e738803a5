import { utf8 } from '../byteLevel.js';
import { badField } from '../json.js';
import type { WordTokens } from './model.js';
import { VocabModel } from './vocabModel.js';

/** Options of the BPE model, as the fields of a tokenizer.json `BPE` model (all off or null by default). */
export interface BpeOptions {
  /** Token for characters outside the vocabulary; null (default): such characters are dropped. */
  unkToken?: string | null;
  /** Prefix of non-initial subwords (`##` in WordPiece-style vocabularies); default null. */
  continuingSubwordPrefix?: string | null;
  /** Suffix of a word's last subword (`</w>` in CLIP and classic BPE); default null. */
  endOfWordSuffix?: string | null;
  /** Fuse runs of unknown characters into one unknown token; default false. */
  fuseUnk?: boolean;
  /** Spell unknown characters as `<0xXX>` byte tokens (when all are in the vocabulary) before using `unkToken`; default false. */
  byteFallback?: boolean;
  /** A word that is itself in the vocabulary becomes that one token without merging (as Llama 3); default false. */
  ignoreMerges?: boolean;
}

/** Pair keys and merge values pack two 26-bit integers into one exact double. */
const SHIFT = 2 ** 26;

/**
 * Byte-pair encoding with merges applied by rank (dropout-free), in O(n log n) per word
 * with a linked list of symbols and a heap of candidate merges, as Hugging Face's `Word::merge_all`.
 */
export class BPE extends VocabModel {
  readonly unkToken: string | null;
  readonly continuingSubwordPrefix: string | null;
  readonly endOfWordSuffix: string | null;
  readonly fuseUnk: boolean;
  readonly byteFallback: boolean;
  readonly ignoreMerges: boolean;
  /** pair key (a * 2^26 + b) -> rank * 2^26 + new id */
  private readonly merges = new Map<number, number>();
  private readonly mergeList: Array<[string, string]>;

  constructor(vocab: Map<string, number>, merges: Array<[string, string]>, options: BpeOptions = {}) {
    super(vocab);
    this.mergeList = merges;
    this.unkToken = options.unkToken ?? null;
    this.continuingSubwordPrefix = options.continuingSubwordPrefix ?? null;
    this.endOfWordSuffix = options.endOfWordSuffix ?? null;
    this.fuseUnk = options.fuseUnk ?? false;
    this.byteFallback = options.byteFallback ?? false;
    this.ignoreMerges = options.ignoreMerges ?? false;
    for (const [token, id] of vocab) {
      if (!Number.isInteger(id) || id < 0 || id >= SHIFT) throw badField(`model.vocab["${token}"]`, 'must be an integer id in [0, 2^26)');
    }
    const prefixLen = this.continuingSubwordPrefix?.length ?? 0;
    for (let rank = 0; rank < merges.length; rank++) {
      const [a, b] = merges[rank];
      const ia = vocab.get(a);
      const ib = vocab.get(b);
      if (ia === undefined) throw badField(`model.merges.${rank}`, `refers to "${a}", which is not in model.vocab`);
      if (ib === undefined) throw badField(`model.merges.${rank}`, `refers to "${b}", which is not in model.vocab`);
      const merged = a + (prefixLen > 0 && b.startsWith(this.continuingSubwordPrefix!) ? b.slice(prefixLen) : b);
      const id = vocab.get(merged);
      if (id === undefined) throw badField(`model.merges.${rank}`, `produces "${merged}", which is not in model.vocab`);
      const key = ia * SHIFT + ib;
      if (!this.merges.has(key)) this.merges.set(key, rank * SHIFT + id);
    }
  }

  /**
   * Splits `word` into characters (with the prefix and suffix), spells unknown ones with byte tokens or
   * `unkToken`, then applies merges lowest rank first. Throws `E_TOKENIZER_JSON` when `unkToken` is
   * needed but not in the vocabulary.
   */
  tokenizeRaw(word: string): WordTokens {
    if (this.ignoreMerges) {
      const id = this.vocab.get(word);
      if (id !== undefined) return { ids: Int32Array.of(id), offsets: Int32Array.of(0, word.length) };
    }
    const n = word.length;
    const extra = (this.continuingSubwordPrefix?.length ?? 0) + (this.endOfWordSuffix?.length ?? 0);
    const capacity = this.byteFallback ? n * (4 + 3 * extra) : n;
    const sym = new Int32Array(capacity);
    const len = new Int32Array(capacity);
    let count = 0;
    let unkId = -1;
    let unkLen = 0;
    const prefix = this.continuingSubwordPrefix;
    const suffix = this.endOfWordSuffix;
    for (let i = 0; i < n; ) {
      const units = word.codePointAt(i)! > 0xffff ? 2 : 1;
      let s = word.slice(i, i + units);
      if (i > 0 && prefix !== null) s = prefix + s;
      if (i + units >= n && suffix !== null) s += suffix;
      const id = this.vocab.get(s);
      if (id !== undefined) {
        if (unkId >= 0) {
          sym[count] = unkId;
          len[count++] = unkLen;
          unkId = -1;
        }
        sym[count] = id;
        len[count++] = units;
      } else {
        let handled = false;
        if (this.byteFallback) {
          const bytes = utf8(s);
          const ids: number[] = [];
          for (const b of bytes) {
            const bid = this.vocab.get(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
            if (bid === undefined) break;
            ids.push(bid);
          }
          if (ids.length === bytes.length) {
            // Byte tokens each cover one unit of the source at most; the first takes the character.
            for (let k = 0; k < ids.length; k++) {
              sym[count] = ids[k];
              len[count++] = k === 0 ? units : 0;
            }
            handled = true;
          }
        }
        if (!handled && this.unkToken !== null) {
          const uid = this.vocab.get(this.unkToken);
          if (uid === undefined) throw badField('model.unk_token', `"${this.unkToken}" is not in model.vocab`);
          if (unkId >= 0 && this.fuseUnk) unkLen += units;
          else {
            if (unkId >= 0) {
              sym[count] = unkId;
              len[count++] = unkLen;
            }
            unkId = uid;
            unkLen = units;
          }
        }
      }
      i += units;
    }
    if (unkId >= 0) {
      sym[count] = unkId;
      len[count++] = unkLen;
    }
    return this.mergeAll(sym, len, count);
  }

  private mergeAll(sym: Int32Array, len: Int32Array, count: number): WordTokens {
    const merges = this.merges;
    const prev = new Int32Array(count);
    const next = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      prev[i] = i - 1;
      next[i] = i + 1 < count ? i + 1 : -1;
    }
    // Min-heap of rank * 2^26 + position: lowest rank first, then leftmost.
    const heap: number[] = [];
    const push = (v: number) => {
      let i = heap.length;
      heap.push(v);
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (heap[p] <= v) break;
        heap[i] = heap[p];
        i = p;
      }
      heap[i] = v;
    };
    const pop = (): number => {
      const top = heap[0];
      const last = heap.pop()!;
      const n = heap.length;
      if (n > 0) {
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          if (l >= n) break;
          const r = l + 1;
          const c = r < n && heap[r] < heap[l] ? r : l;
          if (heap[c] >= last) break;
          heap[i] = heap[c];
          i = c;
        }
        heap[i] = last;
      }
      return top;
    };
    for (let i = 0; i + 1 < count; i++) {
      const m = merges.get(sym[i] * SHIFT + sym[i + 1]);
      if (m !== undefined) push(Math.floor(m / SHIFT) * SHIFT + i);
    }
    while (heap.length > 0) {
      const top = pop();
      const rank = Math.floor(top / SHIFT);
      const pos = top - rank * SHIFT;
      if (len[pos] < 0) continue;
      const right = next[pos];
      if (right < 0) continue;
      const m = merges.get(sym[pos] * SHIFT + sym[right]);
      if (m === undefined || Math.floor(m / SHIFT) !== rank) continue;
      sym[pos] = m - rank * SHIFT;
      len[pos] += len[right];
      len[right] = -1;
      const after = next[right];
      next[pos] = after;
      if (after >= 0) prev[after] = pos;
      const before = prev[pos];
      if (before >= 0) {
        const mp = merges.get(sym[before] * SHIFT + sym[pos]);
        if (mp !== undefined) push(Math.floor(mp / SHIFT) * SHIFT + before);
      }
      if (after >= 0) {
        const mn = merges.get(sym[pos] * SHIFT + sym[after]);
        if (mn !== undefined) push(Math.floor(mn / SHIFT) * SHIFT + pos);
      }
    }
    let kept = 0;
    for (let i = 0; i < count; i++) if (len[i] >= 0) kept++;
    const ids = new Int32Array(kept);
    const offsets = new Int32Array(2 * kept);
    let at = 0;
    let k = 0;
    for (let i = 0; i < count; i++) {
      if (len[i] < 0) continue;
      ids[k] = sym[i];
      offsets[2 * k] = at;
      at += len[i];
      offsets[2 * k + 1] = at;
      k++;
    }
    return { ids, offsets };
  }

  /** Merges in rank order. */
  getMerges(): Array<[string, string]> {
    return this.mergeList.slice();
  }

  /** The tokenizer.json `model` section: `{ type: 'BPE', vocab, merges, ... }`, merges as `[left, right]` pairs, `dropout: null`. */
  toJSON(): Record<string, unknown> {
    return {
      type: 'BPE',
      dropout: null,
      unk_token: this.unkToken,
      continuing_subword_prefix: this.continuingSubwordPrefix,
      end_of_word_suffix: this.endOfWordSuffix,
      fuse_unk: this.fuseUnk,
      byte_fallback: this.byteFallback,
      ignore_merges: this.ignoreMerges,
      vocab: Object.fromEntries([...this.vocab].sort((a, b) => a[1] - b[1])),
      merges: this.mergeList.map(([a, b]) => [a, b]),
    };
  }
}
