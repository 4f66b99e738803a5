import { describe, expect, it } from 'vitest';
import { type Encoding, Tokenizer } from '../src/index.js';
import { bertTokenizerJSON, gpt2TokenizerJSON, llama3TokenizerJSON, rust, toUtf16Offsets } from './reference.js';

type RustEncoding = Awaited<ReturnType<InstanceType<typeof rust.Tokenizer>['encode']>>;

const TEXTS = [
  'A dog face, smiling at the camera on a sunny day.',
  '狗脸在草地上',
  'short',
  'one two three four five six seven eight nine ten eleven',
];
const PAIRS: Array<[string, string]> = [
  ['A dog face, smiling at the camera on a sunny day.', 'a cat'],
  ['tiny', 'one two three four five six seven eight nine ten eleven twelve'],
  ['one two three four five six', 'seven eight nine ten eleven twelve'],
];

function expectSame(o: Encoding, r: RustEncoding, texts: [string, string?]) {
  expect(o.ids).toEqual(r.getIds());
  expect(o.typeIds).toEqual(r.getTypeIds());
  expect(o.attentionMask).toEqual(r.getAttentionMask());
  expect(o.specialTokensMask).toEqual(r.getSpecialTokensMask());
  const seq = r.getSequenceIds();
  const a = toUtf16Offsets(texts[0], r.getOffsets());
  const b = texts[1] === undefined ? a : toUtf16Offsets(texts[1], r.getOffsets());
  expect(o.offsets).toEqual(seq.map((s, i) => (s === 1 ? b[i] : a[i])));
  // Overflow windows are not compared: the Rust 0.23 binding stops its windows at max_length tokens
  // (it drops the rest of the text); ours follow the documented windows, checked by hand below.
}

const CONFIGS: Array<{ truncation: unknown; padding: unknown }> = [
  { truncation: { direction: 'Right', max_length: 8, strategy: 'LongestFirst', stride: 0 }, padding: null },
  { truncation: { direction: 'Right', max_length: 8, strategy: 'LongestFirst', stride: 2 }, padding: null },
  { truncation: { direction: 'Left', max_length: 7, strategy: 'LongestFirst', stride: 1 }, padding: null },
  { truncation: { direction: 'Right', max_length: 9, strategy: 'OnlySecond', stride: 0 }, padding: null },
  {
    truncation: null,
    padding: { strategy: 'BatchLongest', direction: 'Right', pad_to_multiple_of: null, pad_id: 0, pad_type_id: 0, pad_token: '[PAD]' },
  },
  {
    truncation: null,
    padding: { strategy: 'BatchLongest', direction: 'Left', pad_to_multiple_of: 8, pad_id: 0, pad_type_id: 1, pad_token: '[PAD]' },
  },
  {
    truncation: { direction: 'Right', max_length: 10, strategy: 'LongestFirst', stride: 3 },
    padding: { strategy: { Fixed: 12 }, direction: 'Right', pad_to_multiple_of: null, pad_id: 0, pad_type_id: 0, pad_token: '[PAD]' },
  },
];

/** The binding batches single texts only; pad its pair encodings to the batch length as encodeBatch would. */
function padLikeBatch(encodings: RustEncoding[], padding: Record<string, unknown>) {
  if (padding.strategy !== 'BatchLongest') return;
  let length = Math.max(...encodings.map((e) => e.getLength()));
  const multiple = padding.pad_to_multiple_of as number | null;
  if (multiple !== null && length % multiple > 0) length += multiple - (length % multiple);
  const options = {
    direction: (padding.direction as string).toLowerCase(),
    padId: 0,
    padTypeId: padding.pad_type_id as number,
    padToken: '[PAD]',
  };
  for (const e of encodings) e.pad(length, options);
}

describe('truncation and padding match Hugging Face', () => {
  for (const [name, make] of [
    ['bert', bertTokenizerJSON],
    ['gpt2', gpt2TokenizerJSON],
    ['llama3', llama3TokenizerJSON],
  ] as const) {
    for (const config of CONFIGS) {
      it(`${name} ${JSON.stringify(config)}`, async () => {
        const json = { ...make(), ...config };
        const ours = Tokenizer.fromJSON(json);
        const ref = rust.Tokenizer.fromString(JSON.stringify(json));
        const onlySecond = (config.truncation as { strategy?: string } | null)?.strategy === 'OnlySecond';
        if (!onlySecond) {
          const o = ours.encodeBatch(TEXTS);
          const r = await ref.encodeBatch(TEXTS);
          for (const [i, e] of o.entries()) expectSame(e, r[i], [TEXTS[i]]);
          expectSame(ours.encode(TEXTS[0]), await ref.encode(TEXTS[0]), [TEXTS[0]]);
        }
        // A window stride must stay below what truncation keeps of each input: the Rust library
        // panics (aborting the process), we raise E_TRUNCATION.
        const pairs = PAIRS.filter(([a, b]) => {
          try {
            ours.encode(a, b);
            return true;
          } catch (e) {
            expect(e).toMatchObject({ code: 'E_TRUNCATION' });
            return false;
          }
        });
        const o = ours.encodeBatch(pairs);
        const r = await Promise.all(pairs.map(([a, b]) => ref.encode(a, b)));
        if (config.padding !== null) padLikeBatch(r, config.padding as Record<string, unknown>);
        for (const [i, e] of o.entries()) expectSame(e, r[i], pairs[i]);
        const po = ours.encode(PAIRS[1][0], PAIRS[1][1], { addSpecialTokens: false });
        const pr = await ref.encode(PAIRS[1][0], PAIRS[1][1], { addSpecialTokens: false });
        expectSame(po, pr, PAIRS[1]);
      });
    }
  }

  it('overflow windows cover the whole text with the given stride', () => {
    const t = Tokenizer.fromJSON(bertTokenizerJSON());
    const words = 'one two three four five six seven eight nine ten eleven twelve thirteen';
    const ids = t.encode(words, null, { addSpecialTokens: false }).ids;
    expect(ids.length).toBe(13);
    t.setTruncation({ maxLength: 8, stride: 2 });
    const e = t.encode(words);
    // 6 content tokens per window, stepping by 6 - 2 = 4: [0,6) [4,10) [8,13).
    expect(e.ids).toEqual([101, ...ids.slice(0, 6), 102]);
    expect(e.overflowing.map((o) => o.ids)).toEqual([
      [101, ...ids.slice(4, 10), 102],
      [101, ...ids.slice(8, 13), 102],
    ]);
    t.setTruncation({ maxLength: 7, stride: 1, direction: 'left' });
    const l = t.encode(words);
    // Windows of 5 from the end, stepping by 4: [8,13) [4,9) [0,5).
    expect(l.ids).toEqual([101, ...ids.slice(8, 13), 102]);
    expect(l.overflowing.map((o) => o.ids)).toEqual([
      [101, ...ids.slice(4, 9), 102],
      [101, ...ids.slice(0, 5), 102],
    ]);
  });

  it('rejects truncation that leaves no room or cannot be met', () => {
    const t = Tokenizer.fromJSON(bertTokenizerJSON());
    t.setTruncation({ maxLength: 1 });
    expect(() => t.encode('hello')).toThrow(expect.objectContaining({ code: 'E_TRUNCATION' }));
    t.setTruncation({ maxLength: 6, strategy: 'only_second' });
    expect(() => t.encode('one two three four five six seven')).toThrow(expect.objectContaining({ code: 'E_TRUNCATION' }));
    expect(() => t.encode('one two three four five six seven', 'x')).toThrow(expect.objectContaining({ code: 'E_TRUNCATION' }));
    expect(() => t.setTruncation({ maxLength: 4, stride: 4 })).toThrow(expect.objectContaining({ code: 'E_CONFIG' }));
  });
});
