import { TesseraError } from '@tessera/core';
import type { Tokenizer } from '@tessera/tokenizer';
import type { CaptionGenerateOptions, CaptionText } from '../captionModel.js';
import type { CaptionLang } from '../captionVocab.js';

/**
 * The text side of a Hugging Face captioner: its tokenizer (tokenizer.json / vocab.txt) and
 * the checkpoint's BOS and EOS ids. It writes one language (English, as GIT and BLIP were
 * trained); captions decode with special tokens skipped, as transformers' `batch_decode`.
 */
export class HfCaptionText implements CaptionText {
  readonly langs: readonly CaptionLang[] = ['en'];

  constructor(
    readonly tokenizer: Tokenizer,
    readonly ids: { bos: number; eos: number },
    /** Where the tokenizer came from, for errors. */
    readonly dir: string,
  ) {}

  decodeOptions(lang: CaptionLang = 'en'): Pick<CaptionGenerateOptions, 'startId' | 'allowedTokenIds'> {
    if (!this.langs.includes(lang)) {
      throw new TesseraError('E_INPUT', `the captioner in ${this.dir} writes ${this.langs.join(', ')} captions, not ${lang}; drop --lang`, {
        details: { lang },
      });
    }
    return { startId: this.ids.bos };
  }

  decode(ids: readonly number[]): string {
    return this.tokenizer.decode(ids, { skipSpecialTokens: true }).trim();
  }

  /** The tokenizer's ids with its own BOS/EOS around the words ([CLS] ... [SEP]), cut to maxLength with EOS kept last. */
  encode(caption: string, _lang: CaptionLang, maxLength: number): number[] {
    const words = this.tokenizer.encode(caption, null, { addSpecialTokens: false }).ids;
    return [this.ids.bos, ...words.slice(0, Math.max(0, maxLength - 2)), this.ids.eos];
  }
}
