import { utf8 } from '../byteLevel.js';
import { badField } from '../json.js';
import type { Model, WordTokens } from './model.js';

/** Score given to unknown characters below the lowest vocabulary score (SentencePiece's kUnkPenalty). */
const UNK_PENALTY = 10;

interface TrieNode {
  next: Map<number, TrieNode>;
  id: number;
}

/**
 * SentencePiece Unigram: the segmentation with the highest total score (Viterbi), unknown
 * characters fused into one unknown token, as Hugging Face's `Unigram::encode_optimized`.
 */
export class Unigram implements Model {
  private readonly vocabR: string[];
  private readonly scores: Float64Array;
  private readonly ids = new Map<string, number>();
  private readonly root: TrieNode = { next: new Map(), id: -1 };
  private readonly minScore: number;

  constructor(
    vocab: Array<[string, number]>,
    readonly unkId: number | null,
    readonly byteFallback = false,
  ) {
    this.vocabR = vocab.map(([t]) => t);
    this.scores = Float64Array.from(vocab, ([, s]) => s);
    let min = Number.POSITIVE_INFINITY;
    vocab.forEach(([token, score], id) => {
      if (!this.ids.has(token)) this.ids.set(token, id);
      if (score < min) min = score;
      let node = this.root;
      for (let i = 0; i < token.length; i++) {
        const c = token.charCodeAt(i);
        let child = node.next.get(c);
        if (child === undefined) {
          child = { next: new Map(), id: -1 };
          node.next.set(c, child);
        }
        node = child;
      }
      if (node.id < 0) node.id = id;
    });
    this.minScore = min;
    if (unkId !== null && (unkId < 0 || unkId >= vocab.length)) throw badField('model.unk_id', `is ${unkId}, outside the vocabulary`);
  }

  get vocabSize(): number {
    return this.vocabR.length;
  }

  tokenizeRaw(word: string): WordTokens {
    const n = word.length;
    const bestScore = new Float64Array(n + 1);
    const bestFrom = new Int32Array(n + 1).fill(-1);
    const bestId = new Int32Array(n + 1).fill(-1);
    bestFrom[0] = 0;
    const unkScore = this.minScore - UNK_PENALTY;
    for (let start = 0; start < n; ) {
      const charLen = word.codePointAt(start)! > 0xffff ? 2 : 1;
      if (bestFrom[start] < 0 && start > 0) {
        start += charLen;
        continue;
      }
      const base = bestScore[start];
      let single = false;
      let node: TrieNode | undefined = this.root;
      for (let i = start; i < n; i++) {
        node = node.next.get(word.charCodeAt(i));
        if (node === undefined) break;
        if (node.id < 0) continue;
        const end = i + 1;
        const score = base + this.scores[node.id];
        if (bestFrom[end] < 0 || score > bestScore[end]) {
          bestScore[end] = score;
          bestFrom[end] = start;
          bestId[end] = node.id;
        }
        if (end - start === charLen) single = true;
      }
      if (!single) {
        const end = start + charLen;
        const score = base + unkScore;
        if (bestFrom[end] < 0 || score > bestScore[end]) {
          if (this.unkId === null) throw badField('model.unk_id', 'is missing, but the text has characters outside the vocabulary');
          bestScore[end] = score;
          bestFrom[end] = start;
          bestId[end] = this.unkId;
        }
      }
      start += charLen;
    }
    // Walk back, fusing consecutive unknown pieces.
    const pieces: Array<[number, number, number]> = [];
    for (let end = n; end > 0; ) {
      const start = bestFrom[end];
      const id = bestId[end];
      const last = pieces[pieces.length - 1];
      if (id === this.unkId && last !== undefined && last[2] === this.unkId) last[0] = start;
      else pieces.push([start, end, id]);
      end = start;
    }
    pieces.reverse();
    const ids: number[] = [];
    const offsets: number[] = [];
    const values: string[] = [];
    for (const [start, end, id] of pieces) {
      const piece = word.slice(start, end);
      const known = this.ids.get(piece);
      if (known === undefined && this.byteFallback) {
        const bytes = utf8(piece);
        const byteIds = Array.from(bytes, (b) => this.ids.get(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`));
        if (byteIds.every((b) => b !== undefined)) {
          byteIds.forEach((b, k) => {
            ids.push(b!);
            offsets.push(start, end);
            values.push(`<0x${bytes[k].toString(16).toUpperCase().padStart(2, '0')}>`);
          });
          continue;
        }
      }
      ids.push(known ?? id);
      offsets.push(start, end);
      values.push(piece);
    }
    return { ids: Int32Array.from(ids), offsets: Int32Array.from(offsets), values };
  }

  /** Id of `token` (the first one when the vocabulary repeats it), or undefined. */
  tokenToId(token: string): number | undefined {
    return this.ids.get(token);
  }

  /** Token of `id`, or undefined outside the vocabulary. */
  idToToken(id: number): string | undefined {
    return this.vocabR[id];
  }

  getVocab(): Map<string, number> {
    return new Map(this.ids);
  }

  /** The tokenizer.json `model` section: `{ type: 'Unigram', unk_id, vocab: [[token, score], ...], byte_fallback }`. */
  toJSON(): Record<string, unknown> {
    return { type: 'Unigram', unk_id: this.unkId, vocab: this.vocabR.map((t, i) => [t, this.scores[i]]), byte_fallback: this.byteFallback };
  }
}
