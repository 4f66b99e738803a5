import { describe, expect, it } from 'vitest';
import { compare } from '../test/compare.js';
import { HARD_STRINGS } from '../test/hardStrings.js';
import { bertTokenizerJSON, bertVocabFile, gpt2Files, gpt2TokenizerJSON, rust } from '../test/reference.js';
import { BPE } from './models/bpe.js';
import { Tokenizer } from './tokenizer.js';

describe('tokenizer.json round trip', () => {
  it('toJSON() is read back identically by us and by the Rust library', async () => {
    for (const t of [Tokenizer.fromBertVocab(bertVocabFile()), Tokenizer.fromBpeFiles(gpt2Files.vocab, gpt2Files.merges)]) {
      const json = JSON.stringify(t.toJSON());
      expect(Tokenizer.fromString(json).toJSON()).toEqual(t.toJSON());
      await compare(t, rust.Tokenizer.fromString(json), HARD_STRINGS.slice(0, 20));
    }
  });
});

describe('special tokens and decoding', () => {
  const bert = Tokenizer.fromJSON(bertTokenizerJSON());
  const gpt2 = Tokenizer.fromJSON(gpt2TokenizerJSON());

  it('reports special tokens by role with their ids', () => {
    expect(bert.specialTokens).toEqual({
      pad: { token: '[PAD]', id: 0 },
      unk: { token: '[UNK]', id: 100 },
      cls: { token: '[CLS]', id: 101 },
      sep: { token: '[SEP]', id: 102 },
      mask: { token: '[MASK]', id: 103 },
      bos: { token: '[CLS]', id: 101 },
      eos: { token: '[SEP]', id: 102 },
    });
    expect(gpt2.specialTokens).toEqual({ bos: { token: '<|endoftext|>', id: 50256 }, eos: { token: '<|endoftext|>', id: 50256 } });
    gpt2.setSpecialToken('pad', '<|endoftext|>');
    expect(gpt2.specialTokens.pad).toEqual({ token: '<|endoftext|>', id: 50256 });
    expect(() => gpt2.setSpecialToken('mask', '<mask>')).toThrow(expect.objectContaining({ code: 'E_INPUT' }));
  });

  it('skips special tokens when asked and adds new ones after the vocabulary', () => {
    const ids = bert.encode('a dog').ids;
    expect(bert.decode(ids)).toBe('[CLS] a dog [SEP]');
    expect(bert.decode(ids, { skipSpecialTokens: true })).toBe('a dog');
    const t = Tokenizer.fromJSON(gpt2TokenizerJSON());
    t.addSpecialTokens(['<|image|>']);
    expect(t.tokenToId('<|image|>')).toBe(50257);
    expect(t.encode('see <|image|> here').tokens).toEqual(['see', 'Ġ', '<|image|>', 'Ġhere']);
  });
});

describe('bad input', () => {
  const bert = Tokenizer.fromJSON(bertTokenizerJSON());
  const gpt2 = Tokenizer.fromJSON(gpt2TokenizerJSON());

  it('rejects non-string input with E_INPUT naming the argument', () => {
    for (const bad of [42, null, undefined, { text: 'x' }, ['x']]) {
      expect(() => bert.encode(bad as unknown as string)).toThrow(expect.objectContaining({ code: 'E_INPUT', details: { field: 'text' } }));
    }
    expect(() => bert.encodeBatch(['ok', 7 as unknown as string])).toThrow(
      expect.objectContaining({ code: 'E_INPUT', details: { field: 'inputs[1]' } }),
    );
    expect(() => bert.encodeBatch('a dog' as unknown as string[])).toThrow(expect.objectContaining({ code: 'E_INPUT' }));
    expect(() => bert.encode('a', 5 as unknown as string)).toThrow(
      expect.objectContaining({ code: 'E_INPUT', details: { field: 'pair' } }),
    );
    expect(() => bert.decode([1.5])).toThrow(expect.objectContaining({ code: 'E_INPUT' }));
    expect(() => bert.decode('abc' as unknown as number[])).toThrow(expect.objectContaining({ code: 'E_INPUT' }));
  });

  it('replaces lone surrogates with U+FFFD, keeping offsets into the input', () => {
    const text = 'a\uD800b \uDC00 c\uD83D';
    const e = gpt2.encode(text);
    expect(gpt2.decode(e.ids)).toBe('a\uFFFDb \uFFFD c\uFFFD');
    expect(e.offsets.at(-1)).toEqual([text.length - 1, text.length]);
    expect(bert.encode(text).tokens).toEqual(['[CLS]', 'ab', 'c', '[SEP]']);
  });

  it('handles NUL bytes: BERT drops them, byte-level BPE keeps them', () => {
    expect(bert.encode('a\u0000b').tokens).toEqual(['[CLS]', 'ab', '[SEP]']);
    expect(gpt2.decode(gpt2.encode('a\u0000b').ids)).toBe('a\u0000b');
  });

  it('encodes 1 MB strings without hanging', () => {
    const mb = 'The quick brown fox 狗脸 😀 '.repeat(40_000).slice(0, 1_000_000);
    expect(gpt2.decode(gpt2.encode(mb).ids)).toBe(mb);
    expect(bert.encode(mb).length).toBeGreaterThan(100_000);
    // One 1 MB word: WordPiece gives [UNK] (over 100 characters), BPE merges it in O(n log n).
    const word = 'ab'.repeat(500_000);
    expect(bert.encode(word).tokens).toEqual(['[CLS]', '[UNK]', '[SEP]']);
    expect(gpt2.decode(gpt2.encode(word).ids)).toBe(word);
  });

  it('names the bad field of a malformed tokenizer.json', () => {
    const bad = (patch: (j: Record<string, any>) => void, field: string) => {
      // GPT-2's layout with a three-token vocabulary.
      const json = { ...gpt2TokenizerJSON(), added_tokens: [] } as Record<string, any>;
      json.model = { ...json.model, vocab: { a: 0, b: 1, ab: 2 }, merges: ['a b'] };
      expect(Tokenizer.fromJSON(json).encode('ab').ids).toEqual([2]);
      patch(json);
      expect(() => Tokenizer.fromJSON(json)).toThrow(expect.objectContaining({ code: 'E_TOKENIZER_JSON', details: { field } }));
    };
    bad((j) => delete j.model, 'model');
    bad((j) => (j.model.type = 'Mystery'), 'model.type');
    bad((j) => (j.model.merges = ['a b', 'ab c']), 'model.merges.1');
    bad((j) => (j.model.merges = ['a b', 'b a']), 'model.merges.1');
    bad((j) => (j.model.merges = 'no'), 'model.merges');
    bad((j) => (j.model.vocab = { a: -1 }), 'model.vocab["a"]');
    bad((j) => (j.pre_tokenizer = { type: 'Nope' }), 'pre_tokenizer.type');
    bad((j) => (j.normalizer = { type: 'Sequence', normalizers: [{ type: 'NFC' }, {}] }), 'normalizer.normalizers.1.type');
    bad((j) => (j.decoder = { type: 'WordPiece', prefix: 3 }), 'decoder.prefix');
    bad((j) => (j.post_processor = { type: 'BertProcessing', sep: ['[SEP]'], cls: ['[CLS]', 101] }), 'post_processor.sep');
    bad((j) => (j.added_tokens = [{ id: 1 }]), 'added_tokens.0.content');
    bad((j) => (j.pre_tokenizer = { type: 'Split', pattern: { Regex: '(' }, behavior: 'Isolated' }), 'pre_tokenizer.pattern.Regex');
    bad(
      (j) =>
        (j.model = {
          type: 'Unigram',
          unk_id: 0,
          vocab: [
            ['<unk>', 0],
            ['a', 'high'],
          ],
        }),
      'model.vocab.1',
    );
    bad((j) => (j.model = { type: 'Unigram', unk_id: 5, vocab: [['<unk>', 0]] }), 'model.unk_id');
    // Unigram without unk_id: text outside the vocabulary cannot be encoded.
    const noUnk = Tokenizer.fromJSON({
      ...gpt2TokenizerJSON(),
      pre_tokenizer: null,
      post_processor: null,
      model: { type: 'Unigram', vocab: [['a', -1]] },
    });
    expect(noUnk.encode('aa').ids).toEqual([0, 0]);
    expect(() => noUnk.encode('ab')).toThrow(expect.objectContaining({ code: 'E_TOKENIZER_JSON', details: { field: 'model.unk_id' } }));
    expect(() => Tokenizer.fromString('{not json')).toThrow(expect.objectContaining({ code: 'E_TOKENIZER_JSON' }));
    expect(() => Tokenizer.fromFile('/nonexistent/tokenizer.json')).toThrow(expect.objectContaining({ code: 'E_IO' }));
  });
});

describe('padding defaults', () => {
  it('pads with the pad token found among the added tokens, also when set in the constructor', () => {
    const pad = { id: 2, content: '<pad>', singleWord: false, lstrip: false, rstrip: false, normalized: false, special: true };
    const t = new Tokenizer({
      model: new BPE(
        new Map([
          ['a', 0],
          ['b', 1],
          ['<pad>', 2],
        ]),
        [],
      ),
      addedTokens: [pad],
      padding: { length: 4 },
    });
    expect(t.encode('a').ids).toEqual([0, 2, 2, 2]);
    expect(t.encode('ab').tokens).toEqual(['a', 'b', '<pad>', '<pad>']);
    expect(t.encode('ab').attentionMask).toEqual([1, 1, 0, 0]);
  });
});
