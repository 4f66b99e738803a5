import { TesseraError } from '@tessera/core';
import { tokenizeCaption } from '@tessera/eval';
import type { CaptionGenerateOptions, CaptionText } from './captionModel.js';

/** Output languages; each has a start token that selects it (`<en>`, `<zh>`). */
export const CAPTION_LANGS = ['en', 'zh'] as const;
/** A caption language: 'en' (English) or 'zh' (Chinese). */
export type CaptionLang = (typeof CAPTION_LANGS)[number];

const SPECIALS = ['[PAD]', '[UNK]', '[EOS]', '<en>', '<zh>'] as const;
/** The ids of the special tokens, the same in every caption vocabulary. */
export const CAPTION_VOCAB_IDS = { pad: 0, unk: 1, eos: 2, en: 3, zh: 4 } as const;

/** The saved form (`vocab.json` in a model directory). */
export interface CaptionVocabJson {
  type: 'tessera-caption-vocab';
  version: 1;
  tokens: string[];
}

/**
 * A word-level caption vocabulary: English words and single Chinese characters, as the
 * caption metrics tokenise them (so decoding loses nothing the metrics would see). A caption
 * is encoded `<lang> w1 ... wn [EOS]`; the language token is the decoder's start token,
 * so choosing it chooses the output language.
 */
export class CaptionVocab implements CaptionText {
  readonly langs = CAPTION_LANGS;
  readonly tokens: readonly string[];
  private readonly ids: Map<string, number>;
  readonly padId = 0;
  readonly unkId = 1;
  readonly eosId = 2;

  constructor(tokens: readonly string[]) {
    SPECIALS.forEach((s, i) => {
      if (tokens[i] !== s)
        throw new TesseraError('E_CONFIG', `caption vocabulary: token ${i} must be ${s}; rebuild it with CaptionVocab.build`);
    });
    this.tokens = tokens;
    this.ids = new Map(tokens.map((t, i) => [t, i]));
  }

  /** Builds a vocabulary from training captions (tokens sorted by frequency, then alphabetically). */
  static build(captions: Iterable<string>, minCount = 1): CaptionVocab {
    const counts = new Map<string, number>();
    for (const caption of captions) for (const w of tokenizeCaption(caption)) counts.set(w, (counts.get(w) ?? 0) + 1);
    const words = [...counts]
      .filter(([, n]) => n >= minCount)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .map(([w]) => w);
    return new CaptionVocab([...SPECIALS, ...words]);
  }

  /**
   * Reads a parsed `vocab.json`. Anything but `{type: "tessera-caption-vocab", tokens: string[]}`
   * is E_MODEL_FORMAT; special tokens missing from the first five ids are E_CONFIG.
   */
  static fromJson(json: unknown): CaptionVocab {
    const j = json as Partial<CaptionVocabJson>;
    if (j?.type !== 'tessera-caption-vocab' || !Array.isArray(j.tokens) || j.tokens.some((t) => typeof t !== 'string')) {
      throw new TesseraError(
        'E_MODEL_FORMAT',
        'vocab.json is not a caption vocabulary (expected {type: "tessera-caption-vocab", tokens: [...]})',
      );
    }
    // A later format may change what ids mean: refuse it rather than caption with wrong words.
    if (j.version !== undefined && j.version !== 1) {
      throw new TesseraError(
        'E_MODEL_FORMAT',
        `vocab.json is caption vocabulary version ${String(j.version)}; this Tessera reads version 1`,
      );
    }
    return new CaptionVocab(j.tokens);
  }

  /** The saved form (`vocab.json`), which `fromJson` reads back. */
  toJson(): CaptionVocabJson {
    return { type: 'tessera-caption-vocab', version: 1, tokens: [...this.tokens] };
  }

  get size(): number {
    return this.tokens.length;
  }

  /** The start token id of a language. */
  langId(lang: CaptionLang): number {
    return this.ids.get(`<${lang}>`) as number;
  }

  /** Start with the language token; only that language's words may follow. */
  decodeOptions(lang: CaptionLang = 'en'): Pick<CaptionGenerateOptions, 'startId' | 'allowedTokenIds'> {
    return { startId: this.langId(lang), allowedTokenIds: this.tokenIdsFor(lang) };
  }

  /**
   * The ids a caption in `lang` may use: the words without Latin letters for zh, without CJK
   * characters for en (no special tokens). Decoding with them keeps a Chinese caption free of
   * English words and the reverse.
   */
  tokenIdsFor(lang: CaptionLang): number[] {
    const foreign = lang === 'zh' ? /[A-Za-z]/ : /[\u3400-\u9fff]/;
    const ids: number[] = [];
    for (let id = SPECIALS.length; id < this.tokens.length; id++) if (!foreign.test(this.tokens[id] as string)) ids.push(id);
    return ids;
  }

  /** `<lang> words... [EOS]`, cut to `maxLength` tokens (EOS kept last). */
  encode(caption: string, lang: CaptionLang, maxLength: number): number[] {
    const words = tokenizeCaption(caption).map((w) => this.ids.get(w) ?? this.unkId);
    return [this.langId(lang), ...words.slice(0, Math.max(0, maxLength - 2)), this.eosId];
  }

  /** Generated ids (no start token) -> text: words joined by spaces, Chinese characters joined directly. */
  decode(ids: readonly number[]): string {
    const words: string[] = [];
    for (const id of ids) {
      if (id === this.eosId) break;
      if (id < SPECIALS.length) continue;
      words.push(this.tokens[id] ?? '');
    }
    let out = '';
    for (const w of words) {
      const cjk = /^[\u3400-\u9fff]$/.test(w);
      const prevCjk = /[\u3400-\u9fff]$/.test(out);
      out += out === '' || (cjk && prevCjk) ? w : ` ${w}`;
    }
    return out;
  }
}
