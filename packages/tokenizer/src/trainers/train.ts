import { TesseraError } from '@tessera/base';
import { textChunks } from '#files';
import type { AddedToken } from '../addedVocabulary.js';
import { BYTE_TO_CHAR, toByteLevel } from '../byteLevel.js';
import { ByteLevelDecoder, WordPieceDecoder } from '../decoders/decoders.js';
import { BPE } from '../models/bpe.js';
import { WordPiece } from '../models/wordPiece.js';
import { BertNormalizer } from '../normalizers/bertNormalizer.js';
import type { Normalizer } from '../normalizers/normalizer.js';
import { ByteLevelProcessing } from '../postProcessors/byteLevel.js';
import { TemplateProcessing } from '../postProcessors/template.js';
import { BertPreTokenizer } from '../preTokenizers/basic.js';
import { ByteLevelPreTokenizer } from '../preTokenizers/byteLevel.js';
import type { PreTokenizer } from '../preTokenizers/preTokenizer.js';
import { SPECIAL_TOKEN_ROLES, type SpecialTokenRole, Tokenizer } from '../tokenizer.js';
import { type BpeTrainerOptions, type TrainerProgress, trainBpe } from './bpeTrainer.js';

/** Training text: file paths (one text per line) or any (async) iterable of texts. */
export type TrainingInput = { files: string[] } | Iterable<string> | AsyncIterable<string>;

/**
 * Options of `trainByteLevelBpe`, `trainWordPiece` and `trainTokenizer`: the BPE trainer's options with
 * special tokens given by role (default: `<pad>` and `<|endoftext|>` for BPE, BERT's five for WordPiece).
 */
export interface TrainOptions
  extends Omit<BpeTrainerOptions, 'specialTokens' | 'initialAlphabet' | 'continuingSubwordPrefix' | 'endOfWordSuffix'> {
  /** Special tokens by role; they get the first ids in role order (pad, unk, cls, sep, mask, bos, eos). */
  specialTokens?: Partial<Record<SpecialTokenRole, string>>;
  /** Extra special tokens after the role tokens. */
  extraSpecialTokens?: string[];
  /** WordPiece only: lowercase and strip accents (default true). */
  lowercase?: boolean;
}

const WORDPIECE_SPECIALS: Partial<Record<SpecialTokenRole, string>> = {
  pad: '[PAD]',
  unk: '[UNK]',
  cls: '[CLS]',
  sep: '[SEP]',
  mask: '[MASK]',
};
const BPE_SPECIALS: Partial<Record<SpecialTokenRole, string>> = { pad: '<pad>', eos: '<|endoftext|>' };

async function* texts(input: TrainingInput): AsyncGenerator<string> {
  if (typeof input === 'object' && input !== null && 'files' in input && Array.isArray(input.files)) {
    // Lines keep their line break, as Hugging Face's trainer reads files (byte-level BPE learns "Ċ").
    for (const file of input.files) {
      // Pieces of the current line; joined once per line, so a huge line costs linear time.
      let parts: string[] = [];
      const chunks = textChunks(file)[Symbol.asyncIterator]();
      for (;;) {
        let next: IteratorResult<string>;
        try {
          next = await chunks.next();
        } catch (e) {
          throw new TesseraError('E_IO', `Cannot read training file ${file}: ${(e as Error).message}`, { details: { path: file } });
        }
        if (next.done) break;
        const chunk = next.value;
        let from = 0;
        for (let nl = chunk.indexOf('\n'); nl >= 0; nl = chunk.indexOf('\n', from)) {
          parts.push(chunk.slice(from, nl + 1));
          yield parts.join('');
          parts = [];
          from = nl + 1;
        }
        if (from < chunk.length) parts.push(chunk.slice(from));
      }
      if (parts.length > 0) yield parts.join('');
    }
    return;
  }
  if (input === null || typeof input !== 'object' || !(Symbol.asyncIterator in input || Symbol.iterator in input)) {
    throw new TesseraError('E_INPUT', 'Training input must be { files: [...] } or an iterable of strings.');
  }
  let i = 0;
  for await (const t of input as AsyncIterable<unknown>) {
    if (typeof t !== 'string')
      throw new TesseraError('E_INPUT', `Training text ${i} is ${typeof t}, not a string.`, { details: { index: i } });
    yield t;
    i++;
  }
}

/** Counts the words the normalizer and pre-tokenizer produce (byte-level words in byte characters). */
export async function countWords(
  input: TrainingInput,
  normalizer: Normalizer | null,
  preTokenizer: PreTokenizer,
  onProgress?: (p: TrainerProgress) => void,
): Promise<Map<string, number>> {
  const shell = new Tokenizer({ model: new BPE(new Map(), []), normalizer, preTokenizer });
  const counts = new Map<string, number>();
  let done = 0;
  for await (const text of texts(input)) {
    for (const w of shell.preTokenize(text)) counts.set(w, (counts.get(w) ?? 0) + 1);
    if (++done % 10000 === 0) onProgress?.({ stage: 'count', done, total: 0 });
  }
  onProgress?.({ stage: 'count', done, total: done });
  if (!preTokenizer.byteLevel) return counts;
  const bytes = new Map<string, number>();
  for (const [w, c] of counts) bytes.set(toByteLevel(w), c);
  return bytes;
}

function specialList(roles: Partial<Record<SpecialTokenRole, string>>, extra: string[] = []): string[] {
  const out: string[] = [];
  for (const role of SPECIAL_TOKEN_ROLES) {
    const t = roles[role];
    if (t !== undefined && !out.includes(t)) out.push(t);
  }
  for (const t of extra) if (!out.includes(t)) out.push(t);
  return out;
}

function added(tokens: string[], vocab: Map<string, number>): AddedToken[] {
  return tokens.map((content) => ({
    id: vocab.get(content)!,
    content,
    singleWord: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
}

function withRoles(t: Tokenizer, roles: Partial<Record<SpecialTokenRole, string>>): Tokenizer {
  for (const role of SPECIAL_TOKEN_ROLES) if (roles[role] !== undefined) t.setSpecialToken(role, roles[role]!);
  return t;
}

/**
 * Trains a GPT-2-style byte-level BPE: no normalizer, GPT-2 split, all 256 byte characters in
 * the alphabet, so any text (including Chinese and emoji) encodes and decodes back exactly.
 */
export async function trainByteLevelBpe(input: TrainingInput, options: TrainOptions = {}): Promise<Tokenizer> {
  const roles = options.specialTokens ?? BPE_SPECIALS;
  const specials = specialList(roles, options.extraSpecialTokens);
  const minimum = specials.length + BYTE_TO_CHAR.length;
  if (options.vocabSize !== undefined && options.vocabSize < minimum) {
    throw new TesseraError(
      'E_CONFIG',
      `vocabSize ${options.vocabSize} is below ${minimum} (256 bytes + ${specials.length} special tokens); raise it.`,
      {
        details: { field: 'vocabSize' },
      },
    );
  }
  const preTokenizer = new ByteLevelPreTokenizer(false, true, true);
  const counts = await countWords(input, null, preTokenizer, options.onProgress);
  const { vocab, merges } = trainBpe(counts, { ...options, specialTokens: specials, initialAlphabet: BYTE_TO_CHAR });
  return withRoles(
    new Tokenizer({
      model: new BPE(vocab, merges),
      preTokenizer,
      postProcessor: new ByteLevelProcessing(true, false),
      decoder: new ByteLevelDecoder(),
      addedTokens: added(specials, vocab),
    }),
    roles,
  );
}

/** Trains a BERT-style WordPiece (BERT normalizer and pre-tokenizer, `[CLS] A [SEP]` template). */
export async function trainWordPiece(input: TrainingInput, options: TrainOptions = {}): Promise<Tokenizer> {
  const roles = { ...(options.specialTokens ?? WORDPIECE_SPECIALS) };
  const unk = roles.unk ?? '[UNK]';
  roles.unk = unk;
  const specials = specialList(roles, options.extraSpecialTokens);
  const normalizer = new BertNormalizer({ lowercase: options.lowercase ?? true });
  const preTokenizer = new BertPreTokenizer();
  const counts = await countWords(input, normalizer, preTokenizer, options.onProgress);
  const { vocab } = trainBpe(counts, { ...options, specialTokens: specials, continuingSubwordPrefix: '##' });
  const cls = roles.cls;
  const sep = roles.sep;
  const tok = (t: string) => ({ id: t, ids: [vocab.get(t)!], tokens: [t] });
  const postProcessor =
    cls !== undefined && sep !== undefined
      ? new TemplateProcessing(
          TemplateProcessing.parseTemplate(`${cls}:0 $A:0 ${sep}:0`),
          TemplateProcessing.parseTemplate(`${cls}:0 $A:0 ${sep}:0 $B:1 ${sep}:1`),
          new Map([
            [cls, tok(cls)],
            [sep, tok(sep)],
          ]),
        )
      : null;
  return withRoles(
    new Tokenizer({
      model: new WordPiece(vocab, { unkToken: unk, continuingSubwordPrefix: '##' }),
      normalizer,
      preTokenizer,
      postProcessor,
      decoder: new WordPieceDecoder('##', true),
      addedTokens: added(specials, vocab),
    }),
    roles,
  );
}

/** Trains a tokenizer of the given type. */
export async function trainTokenizer(input: TrainingInput, options: TrainOptions & { type: 'bpe' | 'wordpiece' }): Promise<Tokenizer> {
  const { type, ...rest } = options;
  if (type === 'bpe') return trainByteLevelBpe(input, rest);
  if (type === 'wordpiece') return trainWordPiece(input, rest);
  throw new TesseraError('E_CONFIG', `Unknown tokenizer type ${String(type)}; use bpe or wordpiece.`, { details: { field: 'type' } });
}
