import { ngramCounts, ngramOrder } from './ngrams.js';

const TINY = 1e-15;
const SMALL = 1e-9;

/**
 * Corpus-level BLEU-1..N as computed by the COCO caption evaluation code (bleu_scorer.py,
 * option "closest"): clipped n-gram matches and guesses summed over the corpus, the effective
 * reference length of each candidate is the reference length closest to it (ties to the
 * shorter), and one brevity penalty exp(1 - r/c) from the corpus totals when c < r.
 * The tiny/small constants are those of the reference code (so a zero match count gives ~0).
 *
 * `candidates[i]` is one tokenised caption (see `tokenizeCaption`) and `references[i]` its
 * tokenised references, at least one. Returns `[BLEU-1, ..., BLEU-n]` (default n = 4), each in
 * [0, 1]. Inputs are not validated here; `evaluateCaptions` checks them.
 */
export function bleu(candidates: readonly string[][], references: readonly string[][][], n = 4): number[] {
  const correct = new Array<number>(n).fill(0);
  const guess = new Array<number>(n).fill(0);
  let testLength = 0;
  let refLength = 0;
  for (let i = 0; i < candidates.length; i++) {
    const candidate = candidates[i] as string[];
    const refs = references[i] as string[][];
    const maxRefCounts = new Map<string, number>();
    for (const ref of refs) {
      for (const [gram, count] of ngramCounts(ref, n)) maxRefCounts.set(gram, Math.max(maxRefCounts.get(gram) ?? 0, count));
    }
    const length = candidate.length;
    let closest = refs[0]?.length ?? 0;
    for (const ref of refs) {
      const d = Math.abs(ref.length - length);
      const best = Math.abs(closest - length);
      if (d < best || (d === best && ref.length < closest)) closest = ref.length;
    }
    testLength += length;
    refLength += closest;
    for (let k = 1; k <= n; k++) guess[k - 1] = (guess[k - 1] as number) + Math.max(0, length - k + 1);
    for (const [gram, count] of ngramCounts(candidate, n)) {
      const k = ngramOrder(gram);
      correct[k - 1] = (correct[k - 1] as number) + Math.min(maxRefCounts.get(gram) ?? 0, count);
    }
  }
  const ratio = (testLength + TINY) / (refLength + SMALL);
  const scores: number[] = [];
  let product = 1;
  for (let k = 0; k < n; k++) {
    product *= ((correct[k] as number) + TINY) / ((guess[k] as number) + SMALL);
    let score = product ** (1 / (k + 1));
    if (ratio < 1) score *= Math.exp(1 - 1 / ratio);
    scores.push(score);
  }
  return scores;
}
