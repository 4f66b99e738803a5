import { tf } from '@tessera/core';
import type { CaptionLang, LoadedCaptioner } from '@tessera/models';
import { clipTensor, frameProcessor, loadClipFrames } from './clipFrames.js';

export interface CaptionResult {
  video: string;
  caption: string;
  lang: CaptionLang;
  /** Generated token ids (language token and EOS excluded). */
  tokens: number[];
  beams: number;
}

/**
 * Captions one video file: samples the captioner's number of frames evenly over the whole
 * video (any length ffmpeg decodes), then greedy (beams 1) or beam decoding in `lang`.
 * Unreadable files throw the TesseraErrors of @tessera/patches (E_FILE_EMPTY, E_VIDEO_NO_STREAM, E_VIDEO_CORRUPT...).
 */
export async function captionVideo(
  captioner: LoadedCaptioner,
  video: string,
  options: { beams?: number; lang?: CaptionLang } = {},
): Promise<CaptionResult> {
  const { model, vocab } = captioner;
  const c = model.config;
  const frames = await loadClipFrames(video, c.numFrames, frameProcessor(c.imageSize));
  const lang = options.lang ?? 'en';
  const beams = options.beams ?? 1;
  const input = clipTensor([frames], c.numFrames, c.imageSize);
  try {
    model.eval();
    const [tokens] = model.generate(input, vocab.langId(lang), vocab.eosId, { beams, allowedTokenIds: vocab.tokenIdsFor(lang) }) as [
      number[],
    ];
    return { video, caption: vocab.decode(tokens), lang, tokens, beams };
  } finally {
    tf.dispose(input);
  }
}
