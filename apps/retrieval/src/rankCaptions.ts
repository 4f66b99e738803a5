import { TopK } from '@tessera/index';
import type { DecodedImage } from '@tessera/patches';
import type { Embedder } from './embedder.js';

export interface CaptionHit {
  text: string;
  score: number;
}

/**
 * Image to text: the k captions of `captions` closest to the image (cosine of unit
 * embeddings), best first. Captions are embedded in chunks so large caption sets fit.
 */
export function rankCaptions(embedder: Embedder, image: DecodedImage, captions: readonly string[], k: number, chunk = 256): CaptionHit[] {
  const query = embedder.embedImages([image])[0] as Float32Array;
  const top = new TopK(Math.min(k, captions.length));
  for (let start = 0; start < captions.length; start += chunk) {
    for (const [i, vector] of embedder.embedTexts(captions.slice(start, start + chunk)).entries()) {
      let dot = 0;
      for (let d = 0; d < vector.length; d++) dot += (vector[d] as number) * (query[d] as number);
      top.push(dot, start + i);
    }
  }
  return top.sorted().map(({ score, index }) => ({ text: captions[index] as string, score }));
}
