import { badField } from '../json.js';
import type { WordTokens } from './model.js';
import { VocabModel } from './vocabModel.js';

/** One token per word: the word's id, or the unknown token. */
export class WordLevel extends VocabModel {
  constructor(
    vocab: Map<string, number>,
    readonly unkToken: string,
  ) {
    super(vocab);
  }

  /**
   * The whole word as one token, or `unkToken` when the word is not in the vocabulary; throws
   * `E_TOKENIZER_JSON` (`model.unk_token`) when `unkToken` is not in it either.
   */
  tokenizeRaw(word: string): WordTokens {
    const id = this.vocab.get(word) ?? this.vocab.get(this.unkToken);
    if (id === undefined) throw badField('model.unk_token', `"${this.unkToken}" is not in model.vocab, but the text has words outside it`);
    return { ids: Int32Array.of(id), offsets: Int32Array.of(0, word.length) };
  }

  /** The tokenizer.json `model` section: `{ type: 'WordLevel', vocab, unk_token }`. */
  toJSON(): Record<string, unknown> {
    return { type: 'WordLevel', vocab: Object.fromEntries([...this.vocab].sort((a, b) => a[1] - b[1])), unk_token: this.unkToken };
  }
}
