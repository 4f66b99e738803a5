import { matMul, tf } from '@tessera/core';
import { type RetrievalMetrics, retrievalMetrics } from '@tessera/eval';
import { type ContrastiveEncoder, embedImages, embedTexts } from '@tessera/models';
import type { ImageProcessor } from '@tessera/patches';
import type { Tokenizer } from '@tessera/tokenizer';
import type { PreparedPair } from './pairs.js';

export interface RetrievalEvalOptions {
  model: ContrastiveEncoder;
  tokenizer: Tokenizer;
  processor: ImageProcessor;
  pairs: readonly PreparedPair[];
  /** Languages to score separately (captions of other languages are ignored). */
  languages: readonly string[];
  maxLength: number;
  /** 'all': every caption of the language is a query; 'first': only each image's first one. */
  captions?: 'all' | 'first';
  chunk?: number;
}

export type RetrievalReport = Record<string, RetrievalMetrics & { texts: number; images: number }>;

/**
 * Text-to-image and image-to-text retrieval per language over the pairs' images: R@1/5/10,
 * mean and median rank; with several captions per image, image-to-text counts the best one.
 */
export function evaluateRetrieval(o: RetrievalEvalOptions): RetrievalReport {
  const wasTraining = (o.model as { training?: boolean }).training;
  (o.model as { eval?: () => void }).eval?.();
  const images = embedImages(
    o.model,
    o.processor,
    o.pairs.map((p) => p.image),
    o.chunk,
  );
  const report: RetrievalReport = {};
  for (const lang of o.languages) {
    const texts: string[] = [];
    const imageOfText: number[] = [];
    o.pairs.forEach((p, i) => {
      const list = p.texts.get(lang) ?? [];
      for (const text of o.captions === 'first' ? list.slice(0, 1) : list) {
        texts.push(text);
        imageOfText.push(i);
      }
    });
    if (texts.length === 0) continue;
    const textEmbeds = embedTexts(o.model, o.tokenizer, texts, o.maxLength, o.chunk ?? 512);
    const similarity = tf.tidy(() => matMul(textEmbeds, images, false, true));
    const metrics = retrievalMetrics(similarity.dataSync(), texts.length, o.pairs.length, imageOfText);
    tf.dispose([textEmbeds, similarity]);
    report[lang] = { ...metrics, texts: texts.length, images: o.pairs.length };
  }
  images.dispose();
  if (wasTraining) (o.model as { train?: () => void }).train?.();
  return report;
}

/** One line per language and direction: R@1/5/10 in percent, mean and median rank. */
export function formatRetrieval(report: RetrievalReport): string {
  const pct = (v: number) => `${(100 * v).toFixed(1).padStart(5)} %`;
  const lines = ['lang  direction      R@1      R@5      R@10     mean rank  median rank'];
  for (const [lang, m] of Object.entries(report)) {
    for (const [name, r] of [
      ['text->image', m.textToImage],
      ['image->text', m.imageToText],
    ] as const) {
      lines.push(
        `${lang.padEnd(5)} ${name.padEnd(12)} ${pct(r.r1)}  ${pct(r.r5)}  ${pct(r.r10)}  ${r.meanRank.toFixed(1).padStart(9)}  ${String(r.medianRank).padStart(11)}`,
      );
    }
  }
  return lines.join('\n');
}
