import { TesseraError } from '@tessera/base';

/** Recall@K and rank statistics of one retrieval direction, over its queries. */
export interface RankMetrics {
  /** Recall@1: fraction of queries whose correct item ranks first, in [0, 1]. */
  r1: number;
  /** Recall@5: fraction of queries with the correct item in the top 5. */
  r5: number;
  /** Recall@10: fraction of queries with the correct item in the top 10. */
  r10: number;
  /** Mean of the 1-based ranks. */
  meanRank: number;
  /** Median of the 1-based ranks (the mean of the middle two for an even count). */
  medianRank: number;
  /** The 1-based rank of each query, in query order. */
  ranks: number[];
}

/** Text-to-image and image-to-text retrieval scores from `retrievalMetrics`. */
export interface RetrievalMetrics {
  /** Each text queries the images: one rank per text, that of the image it describes. */
  textToImage: RankMetrics;
  /** Each image queries the texts: one rank per image, that of its best-ranked caption. */
  imageToText: RankMetrics;
}

function summarise(ranks: number[]): RankMetrics {
  const recall = (k: number) => ranks.filter((r) => r <= k).length / ranks.length;
  const sorted = [...ranks].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return {
    r1: recall(1),
    r5: recall(5),
    r10: recall(10),
    meanRank: ranks.reduce((a, b) => a + b, 0) / ranks.length,
    medianRank: median,
    ranks,
  };
}

/**
 * Recall@K and ranks for text-image retrieval from a similarity matrix
 * `similarity[t][i]` (texts x images, row-major), where text t describes image
 * `imageOfText[t]`. Several texts may describe one image.
 *
 * - text -> image: the rank of the text's image among all images.
 * - image -> text: the rank of the best-ranked of the image's captions among all texts
 *   (as open_clip and the ALBEF/BLIP evaluation do with several captions per image).
 *
 * Ranks are 1-based and ties count against the model (a candidate scoring equal to the
 * correct one ranks ahead of it), so a constant similarity cannot score well.
 *
 * Throws a TesseraError E_INPUT when `similarity` does not hold numTexts x numImages values,
 * an `imageOfText` entry is not an image index in [0, numImages), or an image has no caption.
 */
export function retrievalMetrics(
  similarity: ArrayLike<number>,
  numTexts: number,
  numImages: number,
  imageOfText: ArrayLike<number>,
): RetrievalMetrics {
  if (similarity.length !== numTexts * numImages) {
    throw new TesseraError('E_INPUT', `retrievalMetrics: similarity has ${similarity.length} values, expected ${numTexts} x ${numImages}`);
  }
  if (imageOfText.length !== numTexts)
    throw new TesseraError('E_INPUT', `retrievalMetrics: imageOfText has ${imageOfText.length} entries, expected ${numTexts}`);
  const captionsOf: number[][] = Array.from({ length: numImages }, () => []);
  for (let t = 0; t < numTexts; t++) {
    const image = imageOfText[t] as number;
    if (!Number.isInteger(image) || image < 0 || image >= numImages) {
      throw new TesseraError('E_INPUT', `retrievalMetrics: text ${t} points to image ${image}, outside 0..${numImages - 1}`);
    }
    (captionsOf[image] as number[]).push(t);
  }
  if (captionsOf.some((c) => c.length === 0)) throw new TesseraError('E_INPUT', 'retrievalMetrics: every image needs at least one caption');

  const textRanks: number[] = [];
  for (let t = 0; t < numTexts; t++) {
    const row = t * numImages;
    const correct = similarity[row + (imageOfText[t] as number)] as number;
    let rank = 1;
    for (let i = 0; i < numImages; i++) if (i !== imageOfText[t] && (similarity[row + i] as number) >= correct) rank++;
    textRanks.push(rank);
  }

  const imageRanks: number[] = [];
  for (let i = 0; i < numImages; i++) {
    let best = Number.POSITIVE_INFINITY;
    const own = new Set(captionsOf[i]);
    for (const t of captionsOf[i] as number[]) {
      const correct = similarity[t * numImages + i] as number;
      let rank = 1;
      for (let u = 0; u < numTexts; u++) if (!own.has(u) && (similarity[u * numImages + i] as number) >= correct) rank++;
      best = Math.min(best, rank);
    }
    imageRanks.push(best);
  }
  return { textToImage: summarise(textRanks), imageToText: summarise(imageRanks) };
}
