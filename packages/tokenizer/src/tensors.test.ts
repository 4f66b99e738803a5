import { initBackend, tf } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { bertVocabLines } from '../test/reference.js';
import { encodeBatchToTensors } from './tensors.js';
import { Tokenizer } from './tokenizer.js';

describe('encodeBatchToTensors', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });
  const tokenizer = Tokenizer.fromBertVocab(bertVocabLines());

  it('writes ids, mask and type ids as int32 [batch, length] with pad id 0', () => {
    const before = tf.memory().numTensors;
    const t = encodeBatchToTensors(tokenizer, ['a dog face', ['hello', 'world']], { padToMultipleOf: 4 });
    expect(t.inputIds.dtype).toBe('int32');
    expect(t.inputIds.shape).toEqual([2, 8]);
    // bert-base-uncased ids: [CLS]=101 a=1037 dog=3899 face=2227 [SEP]=102 hello=7592 world=2088
    expect(t.inputIds.arraySync()).toEqual([
      [101, 1037, 3899, 2227, 102, 0, 0, 0],
      [101, 7592, 102, 2088, 102, 0, 0, 0],
    ]);
    expect(t.attentionMask.arraySync()).toEqual([
      [1, 1, 1, 1, 1, 0, 0, 0],
      [1, 1, 1, 1, 1, 0, 0, 0],
    ]);
    expect(t.tokenTypeIds.arraySync()).toEqual([
      [0, 0, 0, 0, 0, 0, 0, 0],
      [0, 0, 0, 1, 1, 0, 0, 0],
    ]);
    tf.dispose([t.inputIds, t.attentionMask, t.tokenTypeIds]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('pads on the left to a fixed length and refuses rows that do not fit', () => {
    const t = encodeBatchToTensors(tokenizer, ['a dog'], { length: 6, direction: 'left', specialTokensMask: true });
    expect(t.inputIds.arraySync()).toEqual([[0, 0, 101, 1037, 3899, 102]]);
    expect(t.attentionMask.arraySync()).toEqual([[0, 0, 1, 1, 1, 1]]);
    expect(t.specialTokensMask!.arraySync()).toEqual([[1, 1, 1, 0, 0, 1]]);
    tf.dispose([t.inputIds, t.attentionMask, t.tokenTypeIds, t.specialTokensMask!]);
    expect(() => encodeBatchToTensors(tokenizer, ['one two three four five six'], { length: 4 })).toThrow(
      expect.objectContaining({ code: 'E_INPUT' }),
    );
  });

  it('truncates and pads to maxLength for this call only', () => {
    // bert-base-uncased: one=2028 two=2048
    const t = encodeBatchToTensors(tokenizer, ['one two three four five six', 'one'], { maxLength: 4 });
    expect(t.inputIds.arraySync()).toEqual([
      [101, 2028, 2048, 102],
      [101, 2028, 102, 0],
    ]);
    tf.dispose([t.inputIds, t.attentionMask, t.tokenTypeIds]);
    expect(tokenizer.settings.truncation).toBeNull();
  });
});
