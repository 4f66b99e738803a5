import { describe, expect, it } from 'vitest';
import { CaptionVocab } from './captionVocab.js';

describe('CaptionVocab', () => {
  const vocab = CaptionVocab.build(['A dog face moves up.', 'the dog face goes up', '狗脸向上移动']);

  it('orders words by count then alphabetically after the special tokens', () => {
    // counts: dog 2, face 2, up 2, a 1, goes 1, moves 1, the 1, and each Chinese character once.
    expect(vocab.tokens.slice(0, 11)).toEqual(['[PAD]', '[UNK]', '[EOS]', '<en>', '<zh>', 'dog', 'face', 'up', 'a', 'goes', 'moves']);
    expect(vocab.size).toBe(5 + 7 + 6);
  });

  it('encodes <lang> words [EOS], truncates keeping EOS, and decodes back', () => {
    const ids = vocab.encode('A dog face moves up!', 'en', 24);
    expect(ids).toEqual([3, 8, 5, 6, 10, 7, 2]);
    expect(vocab.decode(ids.slice(1))).toBe('a dog face moves up');
    expect(vocab.encode('A dog face moves up', 'en', 4)).toEqual([3, 8, 5, 2]);
    expect(vocab.encode('a cat', 'en', 24)).toEqual([3, 8, 1, 2]);
    const zh = vocab.encode('狗脸向上移动', 'zh', 24);
    expect(zh[0]).toBe(4);
    expect(vocab.decode(zh.slice(1))).toBe('狗脸向上移动');
  });

  it('tokenIdsFor: Chinese characters only for zh, English words only for en, never special tokens', () => {
    const words = (lang: 'en' | 'zh') => vocab.tokenIdsFor(lang).map((id) => vocab.tokens[id]);
    expect(words('en')).toEqual(['dog', 'face', 'up', 'a', 'goes', 'moves', 'the']);
    expect(words('zh').sort()).toEqual(['上', '动', '向', '狗', '移', '脸'].sort());
  });

  it('round-trips through JSON and rejects other files', () => {
    expect(CaptionVocab.fromJson(JSON.parse(JSON.stringify(vocab.toJson()))).tokens).toEqual(vocab.tokens);
    expect(() => CaptionVocab.fromJson({ model: {} })).toThrow(expect.objectContaining({ code: 'E_MODEL_FORMAT' }));
    expect(() => CaptionVocab.fromJson({ ...vocab.toJson(), version: 2 })).toThrow(
      expect.objectContaining({ code: 'E_MODEL_FORMAT', message: expect.stringContaining('version 2') }),
    );
  });
});
