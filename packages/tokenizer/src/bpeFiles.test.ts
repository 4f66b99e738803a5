import { describe, it } from 'vitest';
import { compare } from '../test/compare.js';
import { HARD_STRINGS } from '../test/hardStrings.js';
import { gpt2Files, gpt2TokenizerJSON, rust } from '../test/reference.js';
import { Tokenizer } from './tokenizer.js';

describe('GPT-2 vocab.json + merges.txt', () => {
  it('fromBpeFiles(vocab.json, merges.txt) encodes like GPT-2 in the Rust library', async () => {
    const ours = Tokenizer.fromBpeFiles(gpt2Files.vocab, gpt2Files.merges);
    await compare(ours, rust.Tokenizer.fromString(JSON.stringify(gpt2TokenizerJSON())), HARD_STRINGS);
  });
});
