import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SeededRandom } from '@tessera/base';
import { describe, expect, it } from 'vitest';
import { mixedCaptions } from '../../test/captions.js';
import { compare } from '../../test/compare.js';
import { HARD_STRINGS } from '../../test/hardStrings.js';
import { rust, tmp } from '../../test/reference.js';
import { ByteLevelPreTokenizer } from '../preTokenizers/byteLevel.js';
import { Tokenizer } from '../tokenizer.js';
import { type TrainerProgress, trainBpe } from './bpeTrainer.js';
import { countWords, trainByteLevelBpe, trainTokenizer, trainWordPiece } from './train.js';

describe('trainBpe', () => {
  // The worked example of the Hugging Face course (chapter 6.5): hug x10, pug x5, pun x12, bun x4, hugs x5.
  const words = new Map([
    ['hug', 10],
    ['pug', 5],
    ['pun', 12],
    ['bun', 4],
    ['hugs', 5],
  ]);

  it('merges the most frequent pair first: ug (20), un (16), hug (15)', () => {
    const { vocab, merges } = trainBpe(words, { vocabSize: 11, specialTokens: ['<unk>'] });
    expect(merges).toEqual([
      ['u', 'g'],
      ['u', 'n'],
      ['h', 'ug'],
    ]);
    expect([...vocab.keys()]).toEqual(['<unk>', 'b', 'g', 'h', 'n', 'p', 's', 'u', 'ug', 'un', 'hug']);
  });

  it('stops at minFrequency and respects limitAlphabet', () => {
    expect(trainBpe(words, { vocabSize: 100, minFrequency: 16 }).merges).toEqual([
      ['u', 'g'],
      ['u', 'n'],
    ]);
    // The two rarest characters (s: 5, b: 4) leave the alphabet.
    const limited = trainBpe(words, { vocabSize: 5, limitAlphabet: 5 });
    expect([...limited.vocab.keys()]).toEqual(['g', 'h', 'n', 'p', 'u']);
  });

  it('uses the continuing-subword prefix for WordPiece', () => {
    const { vocab, merges } = trainBpe(words, { vocabSize: 13, continuingSubwordPrefix: '##' });
    expect(merges[0]).toEqual(['##u', '##g']);
    expect(vocab.has('##ug')).toBe(true);
    expect(vocab.has('h')).toBe(true);
  });

  it('reports progress', () => {
    const seen: TrainerProgress[] = [];
    trainBpe(words, { vocabSize: 10, onProgress: (p) => seen.push(p) });
    expect(seen.map((p) => p.done)).toEqual([1, 2, 3]);
    expect(seen.every((p) => p.stage === 'merge' && p.total === 3)).toBe(true);
  });
});

describe('trainBpe against the Rust BpeTrainer', () => {
  it('learns the same vocabulary (ids included) and merges from the same file', async () => {
    const file = path.join(tmp, 'rust-train.txt');
    writeFileSync(file, mixedCaptions(400, 3).join('\n'));
    // The binding trains with the model's default trainer: 30k, no special tokens, no initial alphabet.
    const ref = new rust.Tokenizer(rust.BPE.empty());
    ref.setPreTokenizer(rust.byteLevelPreTokenizer(false, true));
    ref.train([file]);
    const saved = path.join(tmp, 'rust-trained.json');
    ref.save(saved);
    const model = JSON.parse(readFileSync(saved, 'utf8')).model;
    const counts = await countWords({ files: [file] }, null, new ByteLevelPreTokenizer(false, true, true));
    const ours = trainBpe(counts, { vocabSize: 30000 });
    expect(ours.merges.length).toBeGreaterThan(100);
    expect(Object.fromEntries(ours.vocab)).toEqual(model.vocab);
    expect(ours.merges).toEqual(model.merges.map((m: string | string[]) => (Array.isArray(m) ? m : m.split(' '))));
  });
});

describe('byte-level BPE trained on mixed English/Chinese captions', async () => {
  const captions = mixedCaptions(3000);
  const tokenizer = await trainByteLevelBpe(captions, { vocabSize: 600 });

  it('has the special tokens first, then 256 byte characters, and learns merges', () => {
    expect(tokenizer.specialTokens.pad).toEqual({ token: '<pad>', id: 0 });
    expect(tokenizer.specialTokens.eos).toEqual({ token: '<|endoftext|>', id: 1 });
    expect(tokenizer.vocabSize).toBe(600);
    // Frequent whole words become single tokens.
    expect(tokenizer.encode('狗脸').tokens.length).toBeLessThan(3);
    expect(tokenizer.encode(' moves').tokens).toEqual(['Ġmoves']);
  });

  it('round-trips every Unicode scalar value exactly', () => {
    const chunk: number[] = [];
    const check = () => {
      const text = String.fromCodePoint(...chunk);
      expect(tokenizer.decode(tokenizer.encode(text).ids)).toBe(text);
      chunk.length = 0;
    };
    for (let cp = 0; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      chunk.push(cp);
      if (chunk.length === 8192) check();
    }
    check();
  });

  it('round-trips random mixed strings and the hard strings exactly', () => {
    const rng = new SeededRandom(7);
    const pools = [' ', 'a', 'Z', '狗', '脸', '😀', '\u200D', '\u0301', '\n', '中', 'é', '𠀀', '\u0000'];
    for (let i = 0; i < 300; i++) {
      const parts: string[] = [];
      for (let k = rng.int(40); k > 0; k--)
        parts.push(rng.uniform() < 0.8 ? pools[rng.int(pools.length)] : String.fromCodePoint(rng.int(0xd800)));
      const text = parts.join('');
      expect(tokenizer.decode(tokenizer.encode(text).ids)).toBe(text);
    }
    for (const text of HARD_STRINGS) expect(tokenizer.decode(tokenizer.encode(text).ids)).toBe(text);
  });

  it('saves a tokenizer.json that the Rust library encodes identically', async () => {
    const file = path.join(tmp, 'bpe.json');
    await tokenizer.save(file);
    await compare(Tokenizer.fromFile(file), rust.Tokenizer.fromFile(file), [...HARD_STRINGS, ...captions.slice(0, 50)]);
  });
});

describe('WordPiece trained on mixed captions', async () => {
  const captions = mixedCaptions(2000);
  const file = path.join(tmp, 'captions.txt');
  writeFileSync(file, captions.join('\n'));
  const progress: TrainerProgress[] = [];
  const tokenizer = await trainTokenizer({ files: [file] }, { type: 'wordpiece', vocabSize: 300, onProgress: (p) => progress.push(p) });

  it('puts the special tokens first and reports them by role', () => {
    expect(tokenizer.specialTokens).toMatchObject({
      pad: { token: '[PAD]', id: 0 },
      unk: { token: '[UNK]', id: 1 },
      cls: { token: '[CLS]', id: 2 },
      sep: { token: '[SEP]', id: 3 },
      mask: { token: '[MASK]', id: 4 },
    });
    expect(progress.some((p) => p.stage === 'count' && p.done === 2000)).toBe(true);
    expect(progress.some((p) => p.stage === 'merge')).toBe(true);
  });

  it('trains the same from a file and from an async iterable', async () => {
    async function* gen() {
      yield* captions;
    }
    const fromIterable = await trainWordPiece(gen(), { vocabSize: 300 });
    expect(fromIterable.toJSON()).toEqual(tokenizer.toJSON());
  });

  it('saves a tokenizer.json that the Rust library encodes identically', async () => {
    const out = path.join(tmp, 'wordpiece.json');
    await tokenizer.save(out);
    await compare(Tokenizer.fromFile(out), rust.Tokenizer.fromFile(out), [...HARD_STRINGS, ...captions.slice(0, 50)]);
  });

  it('rejects non-string training texts and unreadable files', async () => {
    await expect(trainWordPiece(['ok', 42 as unknown as string])).rejects.toMatchObject({ code: 'E_INPUT' });
    await expect(trainWordPiece({ files: [path.join(tmp, 'missing.txt')] })).rejects.toMatchObject({ code: 'E_IO' });
    await expect(trainByteLevelBpe(['a'], { vocabSize: 100 })).rejects.toMatchObject({ code: 'E_CONFIG', details: { field: 'vocabSize' } });
    await expect(trainTokenizer(['a'], { type: 'unigram' as 'bpe' })).rejects.toMatchObject({ code: 'E_CONFIG' });
  });
});
