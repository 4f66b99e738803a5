import { badField } from '../json.js';
import type { Model, WordTokens } from './model.js';

/** One token per word: the word's id, or the unknown token. */
export class WordLevel implements Model {
  private readonly vocabR: string[] = [];

  constructor(
    private readonly vocab: Map<string, number>,
    readonly unkToken: string,
  ) {
    for (const [token, id] of vocab) this.vocabR[id] = token;
  }

  get vocabSize(): number {
    return this.vocab.size;
  }

  tokenizeRaw(word: string): WordTokens {
    const id = this.vocab.get(word) ?? this.vocab.get(this.unkToken);
    if (id === undefined) throw badField('model.unk_token', `"${this.unkToken}" is not in model.vocab, but the text has words outside it`);
    return { ids: Int32Array.of(id), offsets: Int32Array.of(0, word.length) };
  }

  tokenToId(token: string): number | undefined {
    return this.vocab.get(token);
  }

  idToToken(id: number): string | undefined {
    return this.vocabR[id];
  }

  getVocab(): Map<string, number> {
    return new Map(this.vocab);
  }

  toJSON(): Record<string, unknown> {
    return { type: 'WordLevel', vocab: Object.fromEntries([...this.vocab].sort((a, b) => a[1] - b[1])), unk_token: this.unkToken };
  }
}
