import { describe, expect, it } from 'vitest';
import { HF_CHAR_CLASSES, type HfCharClass, probeChineseChars, probeHfCharClasses, scalarValues } from '../scripts/hfCharClassProbe.js';
import { HF_TOKENIZERS_VERSION } from './hfCharClasses.js';
import {
  isBertControl,
  isBertPunctuation,
  isBertWhitespace,
  isChineseChar,
  isCombiningMark,
  isNonspacingMark,
  isNumeric,
  isWhitespace,
} from './unicode.js';

const ANSWERS: Record<HfCharClass, (cp: number) => boolean> = {
  whitespace: isWhitespace,
  bertControl: isBertControl,
  bertPunctuation: isBertPunctuation,
  nonspacingMark: isNonspacingMark,
  combiningMark: isCombiningMark,
  numeric: isNumeric,
};

/** Planes with assigned characters (BMP, SMP, SIP, TIP, SSP) in full; the rest (unassigned and private use) sampled. */
function probedCodePoints(): number[] {
  const cps = [0, 1, 2, 3, 14].flatMap((plane) => scalarValues(plane * 0x10000, plane * 0x10000 + 0xffff));
  let seed = 12345;
  for (let i = 0; i < 20_000; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const cp = 0x40000 + (seed % (0x110000 - 0x40000));
    if (cp < 0xe0000 || cp > 0xeffff) cps.push(cp);
  }
  cps.push(0xfffff, 0x10fffd, 0x10ffff);
  return cps;
}

describe('character classes vs Hugging Face tokenizers (Rust)', () => {
  const cps = probedCodePoints();
  const rust = probeHfCharClasses(cps);

  it('uses the tables of the installed Rust library', async () => {
    const { createRequire } = await import('node:module');
    expect(createRequire(import.meta.url)('tokenizers/package.json').version).toBe(HF_TOKENIZERS_VERSION);
  });

  for (const [bit, name] of HF_CHAR_CLASSES.entries()) {
    it(`${name}: every code point of planes 0-3 and 14, and a sample of the others`, () => {
      // (nonspacingMark: where the Rust NFD changes a code point, strip_accents never sees it and the probe gives Unicode's own answer.)
      const wrong = cps.filter((cp) => ANSWERS[name](cp) !== (((rust.get(cp)! >> bit) & 1) === 1));
      expect(wrong.map((cp) => `U+${cp.toString(16).toUpperCase()}`)).toEqual([]);
    });
  }

  it('includes the code points issue 14 and the Unicode 17 tables differed on', () => {
    expect([0x0897, 0x08ca, 0x1734, 0x1171e].map(isNonspacingMark)).toEqual([false, false, true, true]);
    expect([0x0890, 0x13430, 0x1343f, 0x0378].map(isBertControl)).toEqual([false, false, false, false]);
    expect([0x2e43, 0x061d, 0x166d, 0x111c9, 0x3002].map(isBertPunctuation)).toEqual([false, false, true, true, true]);
    expect([0x00, 0x7f, 0xad, 0x200b, 0xe000, 0x10fffd].map(isBertControl)).toEqual([true, true, true, true, true, true]);
    expect([9, 10, 13].map((cp) => [isBertControl(cp), isBertWhitespace(cp)])).toEqual([
      [false, true],
      [false, true],
      [false, true],
    ]);
  });

  it("handle_chinese_chars: BERT's CJK blocks", () => {
    const chinese = probeChineseChars(cps);
    expect(cps.filter((cp) => chinese.has(cp) !== isChineseChar(cp))).toEqual([]);
  });
});
