import { TesseraError, tf } from '@tessera/core';
import { type CaptionItem, type CaptionScores, evaluateCaptions } from '@tessera/eval';
import type { CaptionLang, LoadedCaptioner } from '@tessera/models';
import type { CaptionClip } from './captionDataset.js';
import { clipTensor } from './clipFrames.js';

export interface CaptionerEvaluation {
  lang: CaptionLang;
  beams: number;
  scores: Omit<CaptionScores, 'perItem'>;
  /** A few generated captions with their references, for reading. */
  examples: Array<{ id: string; candidate: string; references: string[] }>;
}

/**
 * Captions every clip in `lang` and scores the captions against that language's references
 * with BLEU-1..4, ROUGE-L and CIDEr-D (COCO definitions, @tessera/eval).
 */
export function evaluateCaptioner(
  captioner: LoadedCaptioner,
  clips: readonly CaptionClip[],
  options: { lang: CaptionLang; beams?: number; batchSize?: number },
): CaptionerEvaluation {
  const { model, text } = captioner;
  const beams = options.beams ?? 1;
  const withRefs = clips.filter((clip) => clip.captions.some((x) => x.lang === options.lang));
  if (withRefs.length === 0) throw new TesseraError('E_DATA', `no clip has a ${options.lang} caption to compare with`);
  const batchSize = options.batchSize ?? (beams > 1 ? 1 : 16);
  model.eval();
  const decodeOptions = text.decodeOptions(options.lang);
  const items: CaptionItem[] = [];
  for (let i = 0; i < withRefs.length; i += batchSize) {
    const batch = withRefs.slice(i, i + batchSize);
    const input = clipTensor(
      batch.map((b) => b.frames),
      model.numFrames,
      model.imageSize,
    );
    try {
      const out = model.generate(input, { ...decodeOptions, beams });
      batch.forEach((clip, k) => {
        items.push({
          id: clip.id,
          candidate: text.decode(out[k] as number[]),
          references: clip.captions.filter((x) => x.lang === options.lang).map((x) => x.text),
        });
      });
    } finally {
      tf.dispose(input);
    }
  }
  const { perItem: _p, ...scores } = evaluateCaptions(items);
  return { lang: options.lang, beams, scores, examples: items.slice(0, 5) };
}
