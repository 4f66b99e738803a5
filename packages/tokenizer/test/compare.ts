import { expect } from 'vitest';
import type { Tokenizer } from '../src/index.js';
import { type rust, toUtf16Offsets } from './reference.js';

type RustTokenizer = InstanceType<typeof rust.Tokenizer>;

/** Compares ids, tokens, offsets, masks and decoded text with the Rust binding on every hard string. */
export async function compare(ours: Tokenizer, ref: RustTokenizer, texts: string[], addSpecialTokens = true) {
  for (const text of texts) {
    const r = await ref.encode(text, null, { addSpecialTokens });
    const o = ours.encode(text, null, { addSpecialTokens });
    const label = JSON.stringify(text.slice(0, 60));
    expect(o.ids, label).toEqual(r.getIds());
    expect(o.tokens, label).toEqual(r.getTokens());
    expect(o.typeIds, label).toEqual(r.getTypeIds());
    expect(o.specialTokensMask, label).toEqual(r.getSpecialTokensMask());
    expect(o.wordIds, label).toEqual(r.getWordIds().map((w) => w ?? null));
    expect(o.attentionMask, label).toEqual(r.getAttentionMask());
    expect(o.offsets, label).toEqual(toUtf16Offsets(text, r.getOffsets()));
    for (const skip of [false, true])
      expect(ours.decode(o.ids, { skipSpecialTokens: skip }), label).toBe(await ref.decode(r.getIds(), skip));
  }
}

/** Compares pair encodings (with or without special tokens) with the Rust binding; offsets point into each text. */
export async function comparePairs(ours: Tokenizer, ref: RustTokenizer, pairs: Array<[string, string]>, addSpecialTokens = true) {
  for (const [a, b] of pairs) {
    const r = await ref.encode(a, b, { addSpecialTokens });
    const o = ours.encode(a, b, { addSpecialTokens });
    expect(o.ids).toEqual(r.getIds());
    expect(o.tokens).toEqual(r.getTokens());
    expect(o.typeIds).toEqual(r.getTypeIds());
    expect(o.specialTokensMask).toEqual(r.getSpecialTokensMask());
    expect(o.attentionMask).toEqual(r.getAttentionMask());
    expect(o.wordIds).toEqual(r.getWordIds().map((w) => w ?? null));
    const seq = r.getSequenceIds();
    const ra = toUtf16Offsets(a, r.getOffsets());
    const rb = toUtf16Offsets(b, r.getOffsets());
    expect(o.offsets).toEqual(seq.map((s, i) => (s === 1 ? rb[i] : ra[i])));
  }
}
