/**
 * Hard strings for golden tests against the Hugging Face Rust tokenizers. Escapes keep
 * invisible characters visible in review.
 */
const longCaption = (() => {
  const parts: string[] = [];
  const en = ['a dog face', 'smiling cat', 'red heart', 'rocket launch', "don't panic", 'U.S.A. flag', '3.14159', 'naïve café'];
  const zh = ['狗脸', '微笑的猫', '红心', '火箭发射', '中华人民共和国', '你好，世界！'];
  for (let i = 0; parts.join(' ').length < 10_000; i++) parts.push(i % 3 === 0 ? zh[i % zh.length] : en[i % en.length]);
  return parts.join(' ').slice(0, 10_000);
})();

export const HARD_STRINGS: string[] = [
  '',
  ' ',
  'Hello, world!',
  'The quick brown fox jumps over the lazy dog.',
  "I'm sure they'll've done it, didn't they? We're here; you've gone.",
  // accents and combining marks (precomposed and decomposed)
  'Café naïve résumé Ångström Zoë façade',
  'Cafe\u0301 nai\u0308ve re\u0301sume\u0301 A\u030Angstro\u0308m',
  'a\u0300\u0301\u0302\u0303\u0304 Z\u0335\u0336a\u0337l\u0338g\u0339o\u033A',
  'ǅemal ǈubljana ﬁnance ﬃ ² ½ ℌ Ⅻ x²y ①② _under‿tie',
  'İstanbul ΣΊΣΥΦΟΣ straße ΑΒΓ',
  // Chinese, Japanese, Korean
  '一只狗的脸，在草地上奔跑。',
  '中华人民共和国成立于1949年。北京是首都！',
  '𠀀𠀁𪚥 CJK extension B 𠮷野家',
  'すもももももももものうち。カタカナ ﾊﾝｶｸ',
  '東京タワーは333メートルです',
  '안녕하세요 세계! 한국어 텍스트입니다.',
  '\u1100\u1161\u11A8 decomposed hangul',
  // Arabic and Hebrew (right to left), Devanagari, Thai
  'مرحبا بالعالم! هذا نص عربي.',
  'שָׁלוֹם עוֹלָם',
  'नमस्ते दुनिया',
  'สวัสดีชาวโลก',
  // emoji: ZWJ sequences, flags, skin tones, keycaps, variation selectors
  '😀 😃 😄 🐶 🐱',
  '👨\u200D👩\u200D👧\u200D👦 family, 👩🏽\u200D💻 coder',
  '🇨🇳🇺🇸🇯🇵 flags 🏳️\u200D🌈 🏴\u200D☠️',
  '👍🏻👍🏼👍🏽👍🏾👍🏿 thumbs',
  '1️⃣ #️⃣ ©️ ™ ❤️ ❤︎',
  'dog🐶face狗脸smile😊微笑',
  // control characters and zero-width characters
  'tab\there\nnewline\r\ncarriage',
  'null\u0000byte and bell\u0007 and escape\u001B[0m',
  'zero\u200Bwidth\u200Cnon\u200Djoiner\u2060word\uFEFFbom',
  'soft\u00ADhyphen and nbsp\u00A0here and\u2028line\u2029para',
  'NEL\u0085next \u000B vertical \u000C form',
  'private \uE000\uF8FF use and replacement \uFFFD char',
  // whitespace runs
  'many     spaces   between\t\t\twords',
  '   leading and trailing   ',
  '\n\n\n',
  'ideographic\u3000space and\u2003em\u2009thin',
  // very long words, numbers, punctuation, special-token look-alikes
  'supercalifragilisticexpialidocious pneumonoultramicroscopicsilicovolcanoconiosis',
  'a'.repeat(150),
  'ab'.repeat(120),
  '1234567890 3.14159 1,000,000 0x1F600 ١٢٣',
  '!!!??? ... --- *** ((())) [[]] {{}} <<>> ///',
  '[CLS] [SEP] [MASK] <|endoftext|> [PAD] [UNK]',
  'email@example.com https://example.com/path?q=1&r=2#frag',
  "'s 't 're 've 'm 'll 'd",
  "DON'T SHOUT, YOU'LL WAKE THEM. SHE'S HERE'D",
  longCaption,
  // 10k characters without a space: one pre-token for GPT-2's regex (BPE on 30k bytes).
  '一只狗的脸在草地上奔跑'.repeat(910).slice(0, 10_000),
  // unassigned code points (Cn): not controls for HF's BertNormalizer, so they stay ([UNK] in BERT)
  'unassigned \u0378 code point',
  'in\u0378word \u05FF\u2065 \uFDD0\uFFFE\uFFFF noncharacters',
  'supplementary \u{1FFFF} \u{E0080} \u{10FFFF} end',
  // assigned or recategorised since the Rust library's Unicode tables: HF's classes, not the JS engine's
  'pepet a\u0897b a\u08CAb\u08E1, nonspacing marks; pound a\u0890b\u0891 and hieroglyph \u{13430}\u{1343F} format controls',
  'new punctuation a\u2E43b a\u2E5Db a\u061Db a\u0C77b a\u{11F43}b, Canadian a\u166Db and Sharada a\u{111C9}b were punctuation',
  'Hanunoo a\u1734b and Ahom a\u{1171E}b were nonspacing marks; STRIP\u0897\u0301ED accents',
];
