import { describe, it } from 'vitest';
import { compare } from '../test/compare.js';
import { HARD_STRINGS } from '../test/hardStrings.js';
import { bertTokenizerJSON, bertVocabFile, rust } from '../test/reference.js';
import { Tokenizer } from './tokenizer.js';

describe('BERT vocab.txt', () => {
  it('fromBertVocab(vocab.txt) encodes like bert-base-uncased in the Rust library', async () => {
    const ours = Tokenizer.fromBertVocab(bertVocabFile());
    await compare(ours, rust.Tokenizer.fromString(JSON.stringify(bertTokenizerJSON())), HARD_STRINGS);
  });
});
