import { initBackend, tf } from '@tessera/core';
import { Tokenizer } from '@tessera/tokenizer';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeBatchToTensors } from './batchTensors.js';

// A WordPiece vocabulary whose line numbers are the ids below.
const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'a', 'dog', 'face', 'hello', 'world', 'one', 'two'];

describe('encodeBatchToTensors', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });
  const tokenizer = Tokenizer.fromBertVocab(VOCAB);

  it('writes ids, mask and type ids as int32 [batch, length] with pad id 0', () => {
    const before = tf.memory().numTensors;
    const t = encodeBatchToTensors(tokenizer, ['a dog face', ['hello', 'world']], { padToMultipleOf: 4 });
    expect(t.inputIds.dtype).toBe('int32');
    expect(t.inputIds.shape).toEqual([2, 8]);
    // [CLS]=2 a=5 dog=6 face=7 [SEP]=3 hello=8 world=9, padding [PAD]=0
    expect(t.inputIds.arraySync()).toEqual([
      [2, 5, 6, 7, 3, 0, 0, 0],
      [2, 8, 3, 9, 3, 0, 0, 0],
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
    expect(t.inputIds.arraySync()).toEqual([[0, 0, 2, 5, 6, 3]]);
    expect(t.attentionMask.arraySync()).toEqual([[0, 0, 1, 1, 1, 1]]);
    expect(t.specialTokensMask!.arraySync()).toEqual([[1, 1, 1, 0, 0, 1]]);
    tf.dispose([t.inputIds, t.attentionMask, t.tokenTypeIds, t.specialTokensMask!]);
    expect(() => encodeBatchToTensors(tokenizer, ['one two three four five six'], { length: 4 })).toThrow(
      expect.objectContaining({ code: 'E_INPUT' }),
    );
  });

  it('truncates and pads to maxLength for this call only', () => {
    // one=10 two=11; 'three'.. are [UNK]=1 and cut off
    const t = encodeBatchToTensors(tokenizer, ['one two three four five six', 'one'], { maxLength: 4 });
    expect(t.inputIds.arraySync()).toEqual([
      [2, 10, 11, 3],
      [2, 10, 3, 0],
    ]);
    tf.dispose([t.inputIds, t.attentionMask, t.tokenTypeIds]);
    expect(tokenizer.settings.truncation).toBeNull();
  });
});
