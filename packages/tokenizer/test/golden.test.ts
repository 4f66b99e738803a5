import { describe, expect, it } from 'vitest';
import { Tokenizer } from '../src/index.js';
import { HARD_STRINGS } from './hardStrings.js';
import { bertTokenizerJSON, gpt2TokenizerJSON, rust, toUtf16Offsets } from './reference.js';

type RustTokenizer = InstanceType<typeof rust.Tokenizer>;

/** Compares ids, tokens, offsets, masks and decoded text with the Rust binding on every hard string. */
async function compare(ours: Tokenizer, ref: RustTokenizer, texts: string[]) {
  for (const text of texts) {
    const r = await ref.encode(text);
    const o = ours.encode(text);
    const label = JSON.stringify(text.slice(0, 60));
    expect(o.ids, label).toEqual(r.getIds());
    expect(o.tokens, label).toEqual(r.getTokens());
    expect(o.typeIds, label).toEqual(r.getTypeIds());
    expect(o.specialTokensMask, label).toEqual(r.getSpecialTokensMask());
    expect(o.attentionMask, label).toEqual(r.getAttentionMask());
    expect(o.offsets, label).toEqual(toUtf16Offsets(text, r.getOffsets()));
    for (const skip of [false, true])
      expect(ours.decode(o.ids, { skipSpecialTokens: skip }), label).toBe(await ref.decode(r.getIds(), skip));
  }
}

async function comparePairs(ours: Tokenizer, ref: RustTokenizer, pairs: Array<[string, string]>) {
  for (const [a, b] of pairs) {
    const r = await ref.encode(a, b);
    const o = ours.encode(a, b);
    expect(o.ids).toEqual(r.getIds());
    expect(o.typeIds).toEqual(r.getTypeIds());
    expect(o.specialTokensMask).toEqual(r.getSpecialTokensMask());
    const seq = r.getSequenceIds();
    const ra = toUtf16Offsets(a, r.getOffsets());
    const rb = toUtf16Offsets(b, r.getOffsets());
    expect(o.offsets).toEqual(seq.map((s, i) => (s === 1 ? rb[i] : ra[i])));
  }
}

const PAIRS: Array<[string, string]> = [
  ['A dog face.', '狗脸'],
  ['', 'only the second'],
  [HARD_STRINGS[5], HARD_STRINGS[23]],
];

describe('golden: bert-base-uncased vs Hugging Face tokenizers (Rust)', () => {
  const json = bertTokenizerJSON();
  const ours = Tokenizer.fromJSON(json);
  const ref = rust.Tokenizer.fromString(JSON.stringify(json));

  it('encodes and decodes every hard string identically', async () => {
    await compare(ours, ref, HARD_STRINGS);
  });

  it('encodes pairs identically', async () => {
    await comparePairs(ours, ref, PAIRS);
  });
});

describe('golden: GPT-2 vs Hugging Face tokenizers (Rust)', () => {
  const json = gpt2TokenizerJSON();
  const ours = Tokenizer.fromJSON(json);
  const ref = rust.Tokenizer.fromString(JSON.stringify(json));

  it('encodes and decodes every hard string identically', async () => {
    await compare(ours, ref, HARD_STRINGS);
  });

  it('encodes pairs identically', async () => {
    await comparePairs(ours, ref, PAIRS);
  });
});
