import { describe, expect, it } from 'vitest';
import { ByteLevelPreTokenizer, decoderFromJSON, NormalizedString, normalizerFromJSON, preTokenizerFromJSON } from '../src/index.js';
import { HARD_STRINGS } from './hardStrings.js';
import { gpt2TokenizerJSON, LLAMA3_SPLIT, rust } from './reference.js';

/** A Rust tokenizer that has only the given stage (the model is a tiny placeholder). */
function rustWith(section: 'normalizer' | 'pre_tokenizer', value: unknown) {
  const json: Record<string, unknown> = {
    ...gpt2TokenizerJSON(),
    normalizer: null,
    pre_tokenizer: null,
    post_processor: null,
    decoder: null,
    added_tokens: [],
  };
  json.model = {
    type: 'WordPiece',
    unk_token: '[UNK]',
    continuing_subword_prefix: '##',
    max_input_chars_per_word: 100,
    vocab: { '[UNK]': 0 },
  };
  json[section] = value;
  return rust.Tokenizer.fromString(JSON.stringify(json));
}

/** Python's string.punctuation. */
const PUNCTUATION = [...'!"#$%&\'()*+,-./:;<=>?@[\\]^_{|}~', '`'];

const NORMALIZERS: unknown[] = [
  { type: 'NFC' },
  { type: 'NFD' },
  { type: 'NFKC' },
  { type: 'NFKD' },
  { type: 'Lowercase' },
  { type: 'Sequence', normalizers: [{ type: 'NFD' }, { type: 'StripAccents' }] },
  { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
  { type: 'BertNormalizer', clean_text: false, handle_chinese_chars: false, strip_accents: false, lowercase: false },
  { type: 'Strip', strip_left: true, strip_right: true },
  { type: 'Replace', pattern: { String: ' ' }, content: '▁' },
  { type: 'Prepend', prepend: '▁' },
  { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' },
  {
    type: 'Sequence',
    normalizers: [{ type: 'NFC' }, { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' }, { type: 'Lowercase' }],
  },
  // SigLIP's canonicalize_text: ASCII punctuation escaped as Python's re.escape does ("\!", "\#", "\~"...),
  // which Oniguruma accepts and a JavaScript 'u' RegExp does not.
  { type: 'Replace', pattern: { Regex: `[${PUNCTUATION.map((c) => `\\${c}`).join('')}]` }, content: '' },
  { type: 'Replace', pattern: { Regex: '\\!+|\\#|\\-' }, content: '=' },
];

const PRE_TOKENIZERS: unknown[] = [
  { type: 'BertPreTokenizer' },
  { type: 'Whitespace' },
  { type: 'WhitespaceSplit' },
  { type: 'Punctuation', behavior: 'Isolated' },
  { type: 'Punctuation', behavior: 'MergedWithPrevious' },
  { type: 'Punctuation', behavior: 'MergedWithNext' },
  { type: 'Punctuation', behavior: 'Contiguous' },
  { type: 'Punctuation', behavior: 'Removed' },
  { type: 'Digits', individual_digits: true },
  { type: 'Digits', individual_digits: false },
  { type: 'Split', pattern: { String: ' ' }, behavior: 'Removed', invert: false },
  { type: 'Split', pattern: { Regex: '\\p{N}+' }, behavior: 'Isolated', invert: false },
  { type: 'Split', pattern: { String: '-' }, behavior: 'MergedWithPrevious', invert: false },
  LLAMA3_SPLIT,
  { type: 'Split', pattern: { Regex: '\\w+' }, behavior: 'Removed', invert: true },
  { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
  { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
  { type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, { type: 'Digits', individual_digits: true }] },
];

/** Code-point index -> UTF-16 index in `s`. */
function units(s: string): number[] {
  const out: number[] = [];
  let u = 0;
  for (const ch of s) {
    out.push(u);
    u += ch.length;
  }
  out.push(u);
  return out;
}

describe('normalizers match Hugging Face', () => {
  for (const section of NORMALIZERS) {
    it(JSON.stringify(section), () => {
      const ours = normalizerFromJSON(section);
      const ref = rustWith('normalizer', section).getNormalizer()!;
      for (const text of HARD_STRINGS) {
        expect(ours.normalize(NormalizedString.of(text)).text, JSON.stringify(text.slice(0, 40))).toBe(ref.normalizeString(text));
      }
    });
  }
});

describe('pre-tokenizers match Hugging Face', () => {
  for (const section of PRE_TOKENIZERS) {
    it(JSON.stringify(section), () => {
      const ours = preTokenizerFromJSON(section);
      const ref = rustWith('pre_tokenizer', section).getPreTokenizer()!;
      for (const text of HARD_STRINGS) {
        const ns = ours.prepare(NormalizedString.of(text));
        const spans = ours.split(ns.text, [0, ns.text.length]);
        const words: string[] = [];
        const offsets: number[][] = [];
        for (let k = 0; k < spans.length; k += 2) {
          words.push(ns.text.slice(spans[k], spans[k + 1]));
          offsets.push(ns.original(spans[k], spans[k + 1]));
        }
        const r = ref.preTokenizeString(text);
        const u = units(text);
        const label = JSON.stringify(text.slice(0, 40));
        if (ours.byteLevel) {
          // Rust returns byte-level strings; compare the offsets, which point into the text.
          expect(offsets, label).toEqual(r.map(([, [a, b]]) => [u[a], u[b]]));
        } else {
          expect(words, label).toEqual(r.map(([w]) => w));
          expect(offsets, label).toEqual(r.map(([, [a, b]]) => [u[a], u[b]]));
        }
      }
    });
  }
});

describe('ByteLevelPreTokenizer defaults', () => {
  it("are Hugging Face's ByteLevel() defaults, and split as Rust does with them", () => {
    const ours = new ByteLevelPreTokenizer();
    // tokenizers 0.23 (Python): json.loads(pre_tokenizers.ByteLevel().__getstate__()).
    const defaults = { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true };
    expect(ours.toJSON()).toEqual(defaults);
    const ref = rustWith('pre_tokenizer', defaults).getPreTokenizer()!;
    for (const text of HARD_STRINGS) {
      const ns = ours.prepare(NormalizedString.of(text));
      const spans = ours.split(ns.text, [0, ns.text.length]);
      const offsets: number[][] = [];
      for (let k = 0; k < spans.length; k += 2) offsets.push(ns.original(spans[k], spans[k + 1]));
      const u = units(text);
      expect(offsets, JSON.stringify(text.slice(0, 40))).toEqual(ref.preTokenizeString(text).map(([, [a, b]]) => [u[a], u[b]]));
    }
  });
});

const DECODERS: Array<[unknown, string[]]> = [
  [{ type: 'WordPiece', prefix: '##', cleanup: true }, ['hello', '##s', ',', 'world', "'", 's', 'do', 'not', '.', '##x']],
  [{ type: 'WordPiece', prefix: '##', cleanup: false }, ['un', '##believ', '##able', '!', '?']],
  [
    { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    ['Hello', 'Ġworld', 'ĠðŁĺ', 'Ģ', 'Ġä¸Ń', 'æĸĩ', 'Ċ', 'ðŁ', '<|endoftext|>'],
  ],
  [{ type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true }, ['▁Hello', '▁wor', 'ld', '▁', '▁▁x']],
  [{ type: 'Metaspace', replacement: '▁', prepend_scheme: 'never', split: true }, ['▁Hello', '▁world']],
  [{ type: 'BPEDecoder', suffix: '</w>' }, ['hel', 'lo</w>', 'wor', 'ld</w>']],
  [{ type: 'Fuse' }, ['a', 'b', ' c']],
  [
    { type: 'Sequence', decoders: [{ type: 'Fuse' }, { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true }] },
    ['▁a', 'b', '▁c'],
  ],
  // Llama's decoder: ▁ -> space, byte tokens -> UTF-8 (U+FFFD for invalid runs), fuse, strip one leading space.
  [
    {
      type: 'Sequence',
      decoders: [
        { type: 'Replace', pattern: { String: '▁' }, content: ' ' },
        { type: 'ByteFallback' },
        { type: 'Fuse' },
        { type: 'Strip', content: ' ', start: 1, stop: 0 },
      ],
    },
    ['▁Hello', '▁', '<0xE4>', '<0xB8>', '<0xAD>', '<0xE6>', '<0x96>', 'x', '<0xF0>', '<0x9F>', '<0x98>', '<0x80>', '▁▁end'],
  ],
];

describe('decoders match Hugging Face', () => {
  for (const [section, tokens] of DECODERS) {
    it(JSON.stringify(section), () => {
      const json: Record<string, unknown> = { ...gpt2TokenizerJSON(), decoder: section, added_tokens: [] };
      const ref = rust.Tokenizer.fromString(JSON.stringify(json)).getDecoder()!;
      expect(decoderFromJSON(section).decodeChain(tokens).join('')).toBe(ref.decode(tokens));
    });
  }
});
