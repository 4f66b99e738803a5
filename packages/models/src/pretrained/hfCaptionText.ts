import { TesseraError } from '@tessera/core';
import type { Tokenizer } from '@tessera/tokenizer';
import type { CaptionGenerateOptions, CaptionText } from '../captionModel.js';
import type { CaptionLang } from '../captionVocab.js';

/**
 * The text side of a Hugging Face captioner (BLIP, GIT): its tokenizer, in one language (the
 * checkpoint's; Tessera cannot tell which, so it is called 'en'). A caption is the start token
 * (BLIP's [DEC], GIT's [CLS]), the words, then the end token ([SEP]), as the checkpoint was
 * trained; decoding skips the tokenizer's special tokens.
 */
export class HfCaptionText implements CaptionText {
  readonly langs = ['en'] as const;

  constructor(
    readonly tokenizer: Tokenizer,
    private readonly ids: { bos: number; eos: number },
  ) {}

  decodeOptions(lang: CaptionLang = 'en'): Pick<CaptionGenerateOptions, 'startId' | 'allowedTokenIds'> {
    if (lang !== 'en') {
      throw new TesseraError(
        'E_INPUT',
        `this Hugging Face captioner writes in its checkpoint's language only: pass lang 'en' (got '${lang}')`,
        {
          details: { lang },
        },
      );
    }
    return { startId: this.ids.bos };
  }

  decode(ids: readonly number[]): string {
    return this.tokenizer.decode(ids, { skipSpecialTokens: true });
  }

  /** start, words, end: at most `maxLength` ids (words cut, the end token kept). */
  encode(caption: string, lang: CaptionLang, maxLength: number): number[] {
    this.decodeOptions(lang);
    const words = this.tokenizer.encode(caption, null, { addSpecialTokens: false }).ids;
    return [this.ids.bos, ...words.slice(0, Math.max(0, maxLength - 2)), this.ids.eos];
  }
}
