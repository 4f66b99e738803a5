import { TesseraError } from '@tessera/base';

/** Training progress, as `onProgress` receives it. */
export interface TrainerProgress {
  /** `count`: reading texts and counting words; `merge`: learning merges. */
  stage: 'count' | 'merge';
  /** Texts read (`count`) or merges learned (`merge`) so far. */
  done: number;
  /** Total for the stage when known (target merges), else 0. */
  total: number;
}

/** Options of `trainBpe` (Hugging Face `BpeTrainer`). */
export interface BpeTrainerOptions {
  /** Final vocabulary size, special tokens and alphabet included. Default 30000. */
  vocabSize?: number;
  /** Pairs seen fewer times than this are never merged. Default 0. */
  minFrequency?: number;
  /** Tokens given the first ids, in order. */
  specialTokens?: string[];
  /** Keep at most this many characters in the alphabet (the most frequent ones). */
  limitAlphabet?: number;
  /** Characters always in the alphabet (e.g. the 256 byte characters). */
  initialAlphabet?: string[];
  /** Prefix of non-initial subwords ("##" for WordPiece). */
  continuingSubwordPrefix?: string;
  /** Suffix of word-final subwords (`</w>` in classic BPE). */
  endOfWordSuffix?: string;
  /**
   * Called after every merge with `stage: 'merge'`; the `train*` functions also report `stage: 'count'`
   * while they count words (every 10000 texts and at the end).
   */
  onProgress?: (p: TrainerProgress) => void;
}

/** What `trainBpe` learns, ready for `new BPE(vocab, merges)`. */
export interface BpeTrainerResult {
  /** Token -> id: the special tokens, the alphabet in code point order, then one token per merge. */
  vocab: Map<string, number>;
  /** Merges in the order learned, which is their rank. */
  merges: Array<[string, string]>;
}

const SHIFT = 2 ** 26;

/** Max-heap on (count desc, pair key asc), the order Hugging Face's BpeTrainer merges in. */
class PairHeap {
  private readonly counts: number[] = [];
  private readonly keys: number[] = [];
  get size(): number {
    return this.counts.length;
  }
  private before(i: number, j: number): boolean {
    const c = this.counts;
    return c[i] > c[j] || (c[i] === c[j] && this.keys[i] < this.keys[j]);
  }
  private swap(i: number, j: number): void {
    const c = this.counts[i];
    this.counts[i] = this.counts[j];
    this.counts[j] = c;
    const k = this.keys[i];
    this.keys[i] = this.keys[j];
    this.keys[j] = k;
  }
  push(count: number, key: number): void {
    this.counts.push(count);
    this.keys.push(key);
    let i = this.counts.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }
  /** Removes the top; returns [count, key]. */
  pop(): [number, number] {
    const top: [number, number] = [this.counts[0], this.keys[0]];
    const last = this.counts.length - 1;
    this.swap(0, last);
    this.counts.pop();
    this.keys.pop();
    let i = 0;
    const n = this.counts.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.before(l, m)) m = l;
      if (r < n && this.before(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
    return top;
  }
}

/**
 * Learns BPE merges from word counts, following Hugging Face's BpeTrainer: ids for special
 * tokens, then the alphabet in code point order, then one token per merge; the most frequent
 * pair wins, ties go to the smallest (left id, right id).
 */
export function trainBpe(wordCounts: Map<string, number>, options: BpeTrainerOptions = {}): BpeTrainerResult {
  const vocabSize = options.vocabSize ?? 30000;
  const minFrequency = options.minFrequency ?? 0;
  const prefix = options.continuingSubwordPrefix ?? null;
  const suffix = options.endOfWordSuffix ?? null;
  if (!Number.isInteger(vocabSize) || vocabSize <= 0)
    throw new TesseraError('E_CONFIG', 'vocabSize must be a positive integer.', { details: { field: 'vocabSize' } });
  const w2id = new Map<string, number>();
  const id2w: string[] = [];
  const add = (s: string): number => {
    let id = w2id.get(s);
    if (id === undefined) {
      id = id2w.length;
      id2w.push(s);
      w2id.set(s, id);
    }
    return id;
  };
  for (const t of options.specialTokens ?? []) add(t);

  // Alphabet: every character weighted by word counts; the initial alphabet always stays.
  const alphabet = new Map<string, number>();
  for (const [word, count] of wordCounts) for (const ch of word) alphabet.set(ch, (alphabet.get(ch) ?? 0) + count);
  for (const ch of options.initialAlphabet ?? []) alphabet.set(ch, Number.POSITIVE_INFINITY);
  let kept = [...alphabet];
  const limit = options.limitAlphabet;
  if (limit !== undefined && kept.length > limit) {
    kept.sort((a, b) => a[1] - b[1]);
    kept = kept.slice(kept.length - limit);
  }
  kept.sort((a, b) => a[0].codePointAt(0)! - b[0].codePointAt(0)!);
  for (const [ch] of kept) add(ch);
  const alphabetIds = new Set(kept.map(([ch]) => ch));

  // Words as symbol ids.
  const words: Int32Array[] = [];
  const lengths: number[] = [];
  const counts: number[] = [];
  for (const [word, count] of wordCounts) {
    const chars = [...word];
    const syms: number[] = [];
    for (let i = 0; i < chars.length; i++) {
      if (!alphabetIds.has(chars[i])) continue;
      let s = chars[i];
      if (i > 0 && prefix !== null) s = prefix + s;
      if (i === chars.length - 1 && suffix !== null) s += suffix;
      syms.push(add(s));
    }
    words.push(Int32Array.from(syms));
    lengths.push(syms.length);
    counts.push(count);
  }

  const pairCounts = new Map<number, number>();
  const where = new Map<number, number[]>();
  for (let w = 0; w < words.length; w++) {
    const syms = words[w];
    for (let i = 0; i + 1 < lengths[w]; i++) {
      const key = syms[i] * SHIFT + syms[i + 1];
      pairCounts.set(key, (pairCounts.get(key) ?? 0) + counts[w]);
      const list = where.get(key);
      if (list === undefined) where.set(key, [w]);
      else if (list[list.length - 1] !== w) list.push(w);
    }
  }
  const heap = new PairHeap();
  for (const [key, count] of pairCounts) if (count > 0) heap.push(count, key);

  const merges: Array<[string, string]> = [];
  const target = Math.max(0, vocabSize - id2w.length);
  const seen = new Int32Array(words.length).fill(-1);
  const changed = new Set<number>();
  const bump = (key: number, delta: number, w: number) => {
    pairCounts.set(key, (pairCounts.get(key) ?? 0) + delta);
    if (delta > 0) {
      const list = where.get(key);
      if (list === undefined) where.set(key, [w]);
      else if (list[list.length - 1] !== w) list.push(w);
      changed.add(key);
    }
  };
  while (w2id.size < vocabSize && heap.size > 0) {
    const [count, key] = heap.pop();
    const current = pairCounts.get(key) ?? 0;
    if (count !== current) {
      if (current > 0) heap.push(current, key);
      continue;
    }
    if (count < 1 || count < minFrequency) break;
    const a = Math.floor(key / SHIFT);
    const b = key - a * SHIFT;
    let partB = id2w[b];
    if (prefix !== null && partB.startsWith(prefix)) partB = partB.slice(prefix.length);
    const newId = add(id2w[a] + partB);
    merges.push([id2w[a], id2w[b]]);
    pairCounts.set(key, 0);
    changed.clear();
    const stamp = merges.length;
    for (const w of where.get(key) ?? []) {
      if (seen[w] === stamp) continue;
      seen[w] = stamp;
      const syms = words[w];
      const c = counts[w];
      let n = lengths[w];
      let out = 0;
      for (let i = 0; i < n; i++) {
        if (syms[i] === a && i + 1 < n && syms[i + 1] === b) {
          if (out > 0) {
            const prev = syms[out - 1];
            bump(prev * SHIFT + a, -c, w);
            bump(prev * SHIFT + newId, c, w);
          }
          if (i + 2 < n) {
            const next = syms[i + 2];
            bump(b * SHIFT + next, -c, w);
            bump(newId * SHIFT + next, c, w);
          }
          syms[out++] = newId;
          i++;
        } else {
          syms[out++] = syms[i];
        }
      }
      n = out;
      lengths[w] = n;
    }
    where.delete(key);
    for (const k of changed) {
      const cnt = pairCounts.get(k) ?? 0;
      if (cnt > 0) heap.push(cnt, k);
    }
    options.onProgress?.({ stage: 'merge', done: merges.length, total: target });
  }
  return { vocab: w2id, merges };
}
