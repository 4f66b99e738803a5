import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { BERT_SPECIAL_TOKENS, buildWordPieceVocab, trainWordPieceTokenizer } from './wordPieceVocab.js';

const CAPTIONS = ['dog face', 'Dog face, pet, puppy', '狗脸', '狗脸，宠物，小狗', 'cat face', 'grinning face'];

describe('WordPiece vocabulary from captions', () => {
  it('holds the BERT specials, every character in both forms, then words by frequency', () => {
    const vocab = buildWordPieceVocab(CAPTIONS);
    expect(vocab.slice(0, 5)).toEqual([...BERT_SPECIAL_TOKENS]);
    for (const ch of ['d', 'o', '狗', '脸', ',']) {
      expect(vocab).toContain(ch);
      expect(vocab).toContain(`##${ch}`);
    }
    // 'face' appears 4 times, 'dog' 2 times (lower-cased): face comes first among words.
    const words = vocab.filter((t) => t.length > 1 && !t.startsWith('##') && !t.startsWith('['));
    expect(words[0]).toBe('face');
    expect(words).toContain('dog');
    expect(words).not.toContain('Dog');
  });

  it('encodes known words whole, unseen words by characters, Chinese by characters', () => {
    const tok = trainWordPieceTokenizer(CAPTIONS);
    expect(tok.encode('Dog face').tokens).toEqual(['[CLS]', 'dog', 'face', '[SEP]']);
    expect(tok.encode('doge').tokens).toEqual(['[CLS]', 'dog', '##e', '[SEP]']);
    expect(tok.encode('小狗脸').tokens).toEqual(['[CLS]', '小', '狗', '脸', '[SEP]']);
  });

  it('writes a tokenizer.json that Hugging Face tokenizers (Rust) encodes identically', async () => {
    const require_ = createRequire(import.meta.url);
    const { Tokenizer: HfTokenizer } = require_('tokenizers') as {
      Tokenizer: { fromString(json: string): { encode(text: string): Promise<{ getIds(): number[] }> } };
    };
    const tok = trainWordPieceTokenizer(CAPTIONS);
    const hf = HfTokenizer.fromString(JSON.stringify(tok.toJSON()));
    for (const text of ['Dog face, puppy!', '狗脸 小狗', 'grinning cats', 'unknown €']) {
      expect(tok.encode(text).ids).toEqual((await hf.encode(text)).getIds());
    }
  });

  it('refuses a vocabulary too small for the alphabet', () => {
    expect(() => buildWordPieceVocab(CAPTIONS, { vocabSize: 10 })).toThrow(/vocabSize/);
  });
});
