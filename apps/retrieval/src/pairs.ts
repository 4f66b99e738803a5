import { type DataRecord, loadImageBytes, SkipSample } from '@tessera/data';
import { tokenizeTexts } from '@tessera/models';
import { decodeImage, type RgbImage } from '@tessera/patches';
import type { Tokenizer } from '@tessera/tokenizer';

/** One image decoded once, with its captions tokenized once, grouped by language. */
export interface PreparedPair {
  key: string;
  image: RgbImage;
  /** language -> token id rows (with special tokens, truncated to the max length). */
  captions: Map<string, Int32Array[]>;
  /** language -> caption texts, in the order of `captions`. */
  texts: Map<string, string[]>;
  meta: Record<string, unknown>;
}

/** The language of a caption, `und` when unknown. */
export function captionLang(lang: string | undefined): string {
  return lang ?? 'und';
}

/**
 * Decodes a record's image (transparent pixels on white) and tokenizes its captions (unless
 * `tokenizer` is null), so a training step only crops, jitters and stacks. An image that fails
 * to decode throws SkipSample with the decoder's error code as reason (`decode_error` without one).
 */
export async function preparePair(record: DataRecord, tokenizer: Tokenizer | null, maxLength: number): Promise<PreparedPair> {
  let image: RgbImage;
  try {
    image = await decodeImage(await loadImageBytes(record), { name: record.key });
  } catch (error) {
    throw new SkipSample((error as { code?: string }).code ?? 'decode_error', (error as Error).message);
  }
  const texts = new Map<string, string[]>();
  for (const c of record.captions) {
    const lang = captionLang(c.lang);
    texts.set(lang, [...(texts.get(lang) ?? []), c.text]);
  }
  const captions = new Map<string, Int32Array[]>();
  for (const [lang, list] of tokenizer ? texts : []) {
    const t = tokenizeTexts(tokenizer as Tokenizer, list, maxLength);
    captions.set(
      lang,
      list.map((_, k) => {
        const row = t.ids.subarray(k * t.length, (k + 1) * t.length);
        const mask = t.mask.subarray(k * t.length, (k + 1) * t.length);
        let n = 0;
        while (n < mask.length && mask[n] === 1) n++;
        return Int32Array.from(row.subarray(0, n));
      }),
    );
  }
  return { key: record.key, image, captions, texts, meta: record.meta };
}

/** Every record through `preparePair`; records whose image fails to decode are counted in `skipped` and left out. */
export async function preparePairs(
  records: readonly DataRecord[],
  tokenizer: Tokenizer | null,
  maxLength: number,
  onProgress?: (done: number, total: number) => void,
): Promise<{ pairs: PreparedPair[]; skipped: Record<string, number> }> {
  const pairs: PreparedPair[] = [];
  const skipped: Record<string, number> = {};
  for (const [i, record] of records.entries()) {
    try {
      pairs.push(await preparePair(record, tokenizer, maxLength));
    } catch (error) {
      if (!(error instanceof SkipSample)) throw error;
      skipped[error.reason] = (skipped[error.reason] ?? 0) + 1;
    }
    onProgress?.(i + 1, records.length);
  }
  return { pairs, skipped };
}
