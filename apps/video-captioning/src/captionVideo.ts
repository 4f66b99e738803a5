import { tf } from '@tessera/core';
import type { CaptionLang, LoadedCaptioner } from '@tessera/models';
import { clipTensor, loadClipFrames } from './clipFrames.js';

export interface CaptionResult {
  video: string;
  caption: string;
  lang: CaptionLang;
  /** Generated token ids (start token and EOS excluded). */
  tokens: number[];
  beams: number;
}

/**
 * Captions one video file: samples the captioner's number of frames evenly over the whole
 * video (any length ffmpeg decodes), then greedy (beams 1) or beam decoding in `lang` (default:
 * the captioner's first language).
 * Unreadable files throw the TesseraErrors of @tessera/patches (E_FILE_EMPTY, E_VIDEO_NO_STREAM, E_VIDEO_CORRUPT...).
 */
export async function captionVideo(
  captioner: LoadedCaptioner,
  video: string,
  options: { beams?: number; lang?: CaptionLang; maxNewTokens?: number } = {},
): Promise<CaptionResult> {
  const { model, text, processor } = captioner;
  const frames = await loadClipFrames(video, model.numFrames, processor);
  const lang = options.lang ?? (text.langs[0] as CaptionLang);
  const beams = options.beams ?? 1;
  const input = clipTensor([frames], model.numFrames, model.imageSize);
  try {
    model.eval();
    const [tokens] = model.generate(input, { ...text.decodeOptions(lang), beams, maxNewTokens: options.maxNewTokens }) as [number[]];
    return { video, caption: text.decode(tokens), lang, tokens, beams };
  } finally {
    tf.dispose(input);
  }
}
