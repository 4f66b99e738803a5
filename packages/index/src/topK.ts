/**
 * Keeps the k largest scores seen so far in a binary min-heap: O(n log k) with no sort of
 * all n scores. Ties keep the earlier index, so results are deterministic.
 */
export class TopK {
  readonly scores: Float64Array;
  readonly indices: Int32Array;
  size = 0;

  constructor(readonly k: number) {
    this.scores = new Float64Array(k);
    this.indices = new Int32Array(k);
  }

  /** The smallest kept score once full (anything not above it cannot enter). */
  get threshold(): number {
    return this.size < this.k ? Number.NEGATIVE_INFINITY : this.scores[0];
  }

  /**
   * Offers the score of item `index`: kept while fewer than k are held or when it beats the
   * smallest kept score (on a tie the lower index wins, evicting the other). O(log k).
   */
  push(score: number, index: number): void {
    const { scores, indices } = this;
    if (this.size < this.k) {
      let i = this.size++;
      // Sift up: a parent must be "worse" (lower score, or same score and later index).
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!worse(score, index, scores[p], indices[p])) break;
        scores[i] = scores[p];
        indices[i] = indices[p];
        i = p;
      }
      scores[i] = score;
      indices[i] = index;
      return;
    }
    if (!worse(scores[0], indices[0], score, index)) return;
    let i = 0;
    const n = this.size;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && worse(scores[r], indices[r], scores[l], indices[l]) ? r : l;
      if (!worse(scores[c], indices[c], score, index)) break;
      scores[i] = scores[c];
      indices[i] = indices[c];
      i = c;
    }
    scores[i] = score;
    indices[i] = index;
  }

  /** Kept (index, score) pairs, best first. */
  sorted(): { index: number; score: number }[] {
    const out: { index: number; score: number }[] = [];
    for (let i = 0; i < this.size; i++) out.push({ index: this.indices[i], score: this.scores[i] });
    return out.sort((a, b) => b.score - a.score || a.index - b.index);
  }
}

function worse(scoreA: number, indexA: number, scoreB: number, indexB: number): boolean {
  return scoreA < scoreB || (scoreA === scoreB && indexA > indexB);
}
