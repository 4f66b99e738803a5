import { matMul, tf } from '@tessera/core';
import { type ContrastiveEncoder, embedImages, ZeroShotClassifier } from '@tessera/models';
import type { ImageProcessor } from '@tessera/patches';
import type { Tokenizer } from '@tessera/tokenizer';
import type { PreparedPair } from './pairs.js';

export interface ZeroShotEvalOptions {
  model: ContrastiveEncoder;
  tokenizer: Tokenizer;
  processor: ImageProcessor;
  /** Images whose class name is their first caption in `lang` (e.g. the emoji zero-shot split). */
  pairs: readonly PreparedPair[];
  lang: string;
  templates?: readonly string[];
  maxLength?: number;
}

/**
 * Zero-shot classification: every image is classified among the class names of all the pairs
 * (each pair's first caption in `lang`; pairs without one are left out). Gives top-1 accuracy
 * and the rank of each image's true class.
 */
export function zeroShotAccuracy(o: ZeroShotEvalOptions): { accuracy: number; classes: number; images: number; ranks: number[] } {
  const labelled = o.pairs.filter((p) => (p.texts.get(o.lang)?.length ?? 0) > 0);
  const names = [...new Set(labelled.map((p) => p.texts.get(o.lang)?.[0] as string))];
  const zs = new ZeroShotClassifier({
    model: o.model,
    tokenizer: o.tokenizer,
    classNames: names,
    templates: o.templates,
    maxLength: o.maxLength,
  });
  const images = embedImages(
    o.model,
    o.processor,
    labelled.map((p) => p.image),
  );
  const similarity = tf.tidy(() => matMul(images, zs.classEmbeddings, false, true));
  const scores = similarity.dataSync();
  tf.dispose([images, similarity]);
  zs.dispose();
  // Rank of the true class (1 = predicted); a class scoring equal to it counts ahead of it.
  const ranks = labelled.map((p, i) => {
    const truth = names.indexOf(p.texts.get(o.lang)?.[0] as string);
    const own = scores[i * names.length + truth] as number;
    let rank = 1;
    for (let c = 0; c < names.length; c++) if (c !== truth && (scores[i * names.length + c] as number) >= own) rank++;
    return rank;
  });
  return { accuracy: ranks.filter((r) => r === 1).length / ranks.length, classes: names.length, images: labelled.length, ranks };
}
