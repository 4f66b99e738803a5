import { TesseraError } from '@tessera/base';
import { NormalizedString } from '../normalizedString.js';
import { BertNormalizer } from '../normalizers/bertNormalizer.js';
import { BertPreTokenizer } from '../preTokenizers/basic.js';
import { Tokenizer } from '../tokenizer.js';

/** BERT's special tokens, the first five ids (0-4) of every `buildWordPieceVocab` vocabulary. */
export const BERT_SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;

/** Options of `buildWordPieceVocab` and `trainWordPieceTokenizer`. */
export interface WordPieceVocabOptions {
  /** Upper bound on the vocabulary (specials + characters + words); default 8000. */
  vocabSize?: number;
  /** Words seen fewer times are spelled with characters; default 1. */
  minFrequency?: number;
  /** Lowercase and strip accents in the BERT normalizer (an uncased vocabulary); default true. */
  lowercase?: boolean;
}

/**
 * A WordPiece `vocab.txt` for a small caption corpus: the BERT specials, every character both
 * word-initial and as a `##` continuation (so no word of the corpus alphabet is [UNK]), then
 * whole words by frequency. BERT's pre-tokenizer already splits CJK text into characters, so
 * Chinese captions become character tokens. This stands in for a full WordPiece trainer on
 * corpora of a few thousand captions, where whole words cover almost everything.
 */
export function buildWordPieceVocab(texts: Iterable<string>, options: WordPieceVocabOptions = {}): string[] {
  const vocabSize = options.vocabSize ?? 8000;
  const minFrequency = options.minFrequency ?? 1;
  const normalizer = new BertNormalizer({ lowercase: options.lowercase ?? true });
  const pre = new BertPreTokenizer();
  const words = new Map<string, number>();
  const chars = new Map<string, number>();
  for (const text of texts) {
    const normalized = normalizer.normalize(NormalizedString.of(text)).text;
    const spans = pre.split(normalized, [0, normalized.length]);
    for (let i = 0; i < spans.length; i += 2) {
      const word = normalized.slice(spans[i], spans[i + 1]);
      if (word.length === 0) continue;
      words.set(word, (words.get(word) ?? 0) + 1);
      for (const ch of word) chars.set(ch, (chars.get(ch) ?? 0) + 1);
    }
  }
  const byCount = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([k]) => k);
  const alphabet = byCount(chars);
  const vocab: string[] = [...BERT_SPECIAL_TOKENS, ...alphabet, ...alphabet.map((c) => `##${c}`)];
  if (vocab.length > vocabSize) {
    throw new TesseraError(
      'E_CONFIG',
      `vocabSize ${vocabSize} is smaller than the corpus alphabet (${vocab.length} tokens with ## forms); raise vocabSize`,
    );
  }
  const seen = new Set(vocab);
  for (const word of byCount(words)) {
    if (vocab.length >= vocabSize) break;
    if ((words.get(word) ?? 0) < minFrequency || seen.has(word)) continue;
    vocab.push(word);
    seen.add(word);
  }
  return vocab;
}

/** A BERT-style WordPiece tokenizer ([CLS] text [SEP]) whose vocabulary is built from `texts`. */
export function trainWordPieceTokenizer(texts: Iterable<string>, options: WordPieceVocabOptions = {}): Tokenizer {
  return Tokenizer.fromBertVocab(buildWordPieceVocab(texts, options), { lowercase: options.lowercase ?? true });
}
