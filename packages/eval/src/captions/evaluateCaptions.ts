import { TesseraError } from '@tessera/base';
import { bleu } from './bleu.js';
import { ciderD } from './cider.js';
import { rougeL } from './rouge.js';
import { tokenizeCaption } from './tokenizeCaption.js';

/** One item for `evaluateCaptions`: a generated caption and its reference captions, as raw text. */
export interface CaptionItem {
  /** Unique key of the item (a duplicate throws E_INPUT); `CaptionScores.perItem` repeats it. */
  id: string;
  /** The generated caption. */
  candidate: string;
  /** Human (or template) captions for the same item; at least one. */
  references: string[];
}

/**
 * Corpus scores from `evaluateCaptions`, on the scales of the COCO caption evaluation code:
 * BLEU and ROUGE-L in [0, 1], CIDEr-D in [0, 10] (papers usually report all of them x 100).
 */
export interface CaptionScores {
  /** Corpus BLEU-1: clipped unigram precision times the brevity penalty. */
  bleu1: number;
  /** Corpus BLEU-2: geometric mean of the 1- and 2-gram precisions, times the brevity penalty. */
  bleu2: number;
  /** Corpus BLEU-3 (n-grams up to 3). */
  bleu3: number;
  /** Corpus BLEU-4 (n-grams up to 4), the BLEU usually reported. */
  bleu4: number;
  /** Mean over items of ROUGE-L (LCS F-measure, beta 1.2). */
  rougeL: number;
  /** Mean over items of CIDEr-D. */
  ciderD: number;
  /** Number of items evaluated. */
  count: number;
  /** ROUGE-L and CIDEr-D of each item, in input order (BLEU is defined on the corpus only). */
  perItem: Array<{ id: string; rougeL: number; ciderD: number }>;
}

/**
 * BLEU-1..4, ROUGE-L and CIDEr-D over a corpus, with the COCO caption evaluation code's
 * definitions and tokenisation. CIDEr-D's idf comes from the references of this corpus, so
 * scores are comparable only between runs on the same reference set.
 */
export function evaluateCaptions(items: readonly CaptionItem[]): CaptionScores {
  if (items.length === 0) throw new TesseraError('E_INPUT', 'evaluateCaptions: no items to evaluate');
  const seen = new Set<string>();
  for (const item of items) {
    if (seen.has(item.id))
      throw new TesseraError('E_INPUT', `evaluateCaptions: duplicate item id "${item.id}"`, { details: { id: item.id } });
    seen.add(item.id);
    if (typeof item.candidate !== 'string')
      throw new TesseraError('E_INPUT', `evaluateCaptions: item "${item.id}" has no candidate string`);
    if (!Array.isArray(item.references) || item.references.length === 0 || item.references.some((r) => typeof r !== 'string')) {
      throw new TesseraError('E_INPUT', `evaluateCaptions: item "${item.id}" needs at least one reference caption (strings)`, {
        details: { id: item.id },
      });
    }
  }
  const candidates = items.map((i) => tokenizeCaption(i.candidate));
  const references = items.map((i) => i.references.map(tokenizeCaption));
  const [bleu1, bleu2, bleu3, bleu4] = bleu(candidates, references, 4) as [number, number, number, number];
  const rouge = rougeL(candidates, references);
  const cider = ciderD(candidates, references);
  return {
    bleu1,
    bleu2,
    bleu3,
    bleu4,
    rougeL: rouge.score,
    ciderD: cider.score,
    count: items.length,
    perItem: items.map((item, i) => ({ id: item.id, rougeL: rouge.perItem[i] as number, ciderD: cider.perItem[i] as number })),
  };
}
