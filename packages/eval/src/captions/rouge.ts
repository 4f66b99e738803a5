const BETA = 1.2;

/** Length of the longest common subsequence of two token sequences (O(|a| |b|) time, O(|b|) memory). */
export function longestCommonSubsequence(a: readonly string[], b: readonly string[]): number {
  const row = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = 0;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j] as number;
      row[j] = a[i - 1] === b[j - 1] ? diagonal + 1 : Math.max(above, row[j - 1] as number);
      diagonal = above;
    }
  }
  return row[b.length] as number;
}

/**
 * ROUGE-L of one candidate against its references, as rouge.py's `calc_score`: the best
 * precision and the best recall over the references (taken separately) combined into an
 * F-measure with beta = 1.2; in [0, 1], 0 when either is 0.
 */
export function rougeLSentence(candidate: readonly string[], references: readonly string[][]): number {
  let precision = 0;
  let recall = 0;
  for (const ref of references) {
    const lcs = longestCommonSubsequence(ref, candidate);
    if (candidate.length > 0) precision = Math.max(precision, lcs / candidate.length);
    if (ref.length > 0) recall = Math.max(recall, lcs / ref.length);
  }
  if (precision === 0 || recall === 0) return 0;
  return ((1 + BETA ** 2) * precision * recall) / (recall + BETA ** 2 * precision);
}

/**
 * ROUGE-L as in the COCO caption evaluation code (rouge.py): for each candidate, the longest
 * common subsequence with each reference gives precision lcs/|candidate| and recall
 * lcs/|reference|; the maxima over references combine into an F-measure with beta = 1.2;
 * the corpus score is the mean over candidates.
 *
 * `candidates[i]` is one tokenised caption (see `tokenizeCaption`) and `references[i]` its
 * tokenised references. Returns the corpus `score` and the per-item scores, each in [0, 1].
 */
export function rougeL(candidates: readonly string[][], references: readonly string[][][]): { score: number; perItem: number[] } {
  const perItem = candidates.map((c, i) => rougeLSentence(c, references[i] as string[][]));
  return { score: perItem.reduce((a, b) => a + b, 0) / Math.max(1, perItem.length), perItem };
}
