import { ngramCounts, ngramOrder } from './ngrams.js';

const SIGMA = 6;

interface TfIdf {
  vectors: Array<Map<string, number>>;
  norms: number[];
  length: number;
}

/**
 * CIDEr-D as in the COCO caption evaluation code (cider_scorer.py): n-grams n = 1..4 weighted
 * by tf-idf, with document frequencies taken over the reference sets of the evaluated corpus
 * and idf log(#items) - log(max(1, df)); per n, the clipped cosine sum_g min(h_g, r_g) * r_g /
 * (|h| |r|) times a Gaussian length penalty exp(-(len_h - len_r)^2 / (2 sigma^2)), sigma 6;
 * averaged over n and over references, times 10; the corpus score is the mean over items.
 *
 * Faithful to the reference code, the "length" in the penalty counts bigrams
 * (`if n == 1: length += term_freq` with 0-based n), i.e. tokens - 1 for non-empty captions.
 *
 * `candidates[i]` is one tokenised caption (see `tokenizeCaption`) and `references[i]` its
 * tokenised references, at least one. Returns the corpus `score` and the per-item scores, each
 * in [0, 10] (papers usually report them x 100). Since idf comes from the corpus, a corpus of
 * one item scores 0; inputs are not validated here (`evaluateCaptions` checks them).
 */
export function ciderD(candidates: readonly string[][], references: readonly string[][][], n = 4): { score: number; perItem: number[] } {
  const refCounts = references.map((refs) => refs.map((r) => ngramCounts(r, n)));
  const documentFrequency = new Map<string, number>();
  for (const refs of refCounts) {
    const seen = new Set<string>();
    for (const counts of refs) for (const gram of counts.keys()) seen.add(gram);
    for (const gram of seen) documentFrequency.set(gram, (documentFrequency.get(gram) ?? 0) + 1);
  }
  const logItems = Math.log(candidates.length);

  const tfidf = (counts: Map<string, number>): TfIdf => {
    const vectors = Array.from({ length: n }, () => new Map<string, number>());
    const squares = new Array<number>(n).fill(0);
    let length = 0;
    for (const [gram, tf] of counts) {
      const k = ngramOrder(gram) - 1;
      const weight = tf * (logItems - Math.log(Math.max(1, documentFrequency.get(gram) ?? 0)));
      (vectors[k] as Map<string, number>).set(gram, weight);
      squares[k] = (squares[k] as number) + weight * weight;
      if (k === 1) length += tf;
    }
    return { vectors, norms: squares.map(Math.sqrt), length };
  };

  const similarity = (h: TfIdf, r: TfIdf): number[] => {
    const delta = h.length - r.length;
    const penalty = Math.exp(-(delta * delta) / (2 * SIGMA * SIGMA));
    return h.vectors.map((hv, k) => {
      const rv = r.vectors[k] as Map<string, number>;
      let dot = 0;
      for (const [gram, weight] of hv) {
        const refWeight = rv.get(gram) ?? 0;
        dot += Math.min(weight, refWeight) * refWeight;
      }
      const norms = (h.norms[k] as number) * (r.norms[k] as number);
      return (norms !== 0 ? dot / norms : 0) * penalty;
    });
  };

  const perItem = candidates.map((candidate, i) => {
    const h = tfidf(ngramCounts(candidate, n));
    const refs = refCounts[i] as Array<Map<string, number>>;
    const sum = new Array<number>(n).fill(0);
    for (const ref of refs) {
      similarity(h, tfidf(ref)).forEach((v, k) => {
        sum[k] = (sum[k] as number) + v;
      });
    }
    const mean = sum.reduce((a, b) => a + b, 0) / n;
    return (mean / refs.length) * 10;
  });
  return { score: perItem.reduce((a, b) => a + b, 0) / Math.max(1, perItem.length), perItem };
}
