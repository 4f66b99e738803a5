import type { Model, WordTokens } from './model.js';

/** What every vocabulary-backed model shares: token <-> id lookups over a fixed vocabulary. */
export abstract class VocabModel implements Model {
  protected readonly vocabR: string[] = [];

  constructor(protected readonly vocab: Map<string, number>) {
    for (const [token, id] of vocab) this.vocabR[id] = token;
  }

  abstract tokenizeRaw(word: string): WordTokens;
  abstract toJSON(): Record<string, unknown>;

  get vocabSize(): number {
    return this.vocab.size;
  }

  /** Id of `token` in the model's own vocabulary (added tokens not included), or undefined. */
  tokenToId(token: string): number | undefined {
    return this.vocab.get(token);
  }

  /** Token of `id` in the model's own vocabulary, or undefined. */
  idToToken(id: number): string | undefined {
    return this.vocabR[id];
  }

  getVocab(): Map<string, number> {
    return new Map(this.vocab);
  }
}
