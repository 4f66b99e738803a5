// Everything of @tessera/tokenizer but the CLI: what bundlers targeting a browser get through the
// `browser` export condition (its file access, `#files`, is src/files.browser.ts there). The Node
// entry, src/index.ts, re-exports all of it and adds `createTokenizerCommand`.
export { type AddedToken, addedTokenFromJSON } from './addedVocabulary.js';
export type { BertVocabOptions } from './bertVocab.js';
export type { BpeFilesOptions } from './bpeFiles.js';
export { BYTE_TO_CHAR, byteLevelAlphabet } from './byteLevel.js';
export type { Decoder } from './decoders/decoder.js';
export {
  BPEDecoder,
  ByteFallbackDecoder,
  ByteLevelDecoder,
  FuseDecoder,
  MetaspaceDecoder,
  ReplaceDecoder,
  SequenceDecoder,
  StripDecoder,
  WordPieceDecoder,
} from './decoders/decoders.js';
export { decoderFromJSON } from './decoders/fromJSON.js';
export { Encoding } from './encoding.js';
export { BPE, type BpeOptions } from './models/bpe.js';
export { modelFromJSON } from './models/fromJSON.js';
export type { Model, WordTokens } from './models/model.js';
export { Unigram } from './models/unigram.js';
export { WordLevel } from './models/wordLevel.js';
export { WordPiece, type WordPieceOptions } from './models/wordPiece.js';
export { NormalizedString } from './normalizedString.js';
export { BertNormalizer, type BertNormalizerOptions } from './normalizers/bertNormalizer.js';
export { normalizerFromJSON } from './normalizers/fromJSON.js';
export { LowercaseNormalizer } from './normalizers/lowercase.js';
export type { Normalizer } from './normalizers/normalizer.js';
export { PrependNormalizer, ReplaceNormalizer, SequenceNormalizer, StripNormalizer } from './normalizers/simple.js';
export { StripAccentsNormalizer } from './normalizers/stripAccents.js';
export { type UnicodeForm, UnicodeNormalizer } from './normalizers/unicodeForm.js';
export type { PaddingOptions } from './padding.js';
export { ByteLevelProcessing, SequenceProcessing } from './postProcessors/byteLevel.js';
export { postProcessorFromJSON } from './postProcessors/fromJSON.js';
export type { PostProcessor } from './postProcessors/postProcessor.js';
export { BertProcessing, RobertaProcessing, type TemplatePiece, TemplateProcessing } from './postProcessors/template.js';
export {
  BertPreTokenizer,
  CharDelimiterSplitPreTokenizer,
  DigitsPreTokenizer,
  PunctuationPreTokenizer,
  SequencePreTokenizer,
  SplitPreTokenizer,
  WhitespacePreTokenizer,
  WhitespaceSplitPreTokenizer,
} from './preTokenizers/basic.js';
export { ByteLevelPreTokenizer, GPT2_PATTERN } from './preTokenizers/byteLevel.js';
export { preTokenizerFromJSON } from './preTokenizers/fromJSON.js';
export { MetaspacePreTokenizer } from './preTokenizers/metaspace.js';
export type { PreTokenizer } from './preTokenizers/preTokenizer.js';
export type { SplitBehavior } from './preTokenizers/split.js';
export {
  type DecodeOptions,
  type EncodeInput,
  type EncodeOptions,
  SPECIAL_TOKEN_ROLES,
  type SpecialTokenRole,
  Tokenizer,
  type TokenizerParts,
} from './tokenizer.js';
export { type BpeTrainerOptions, type BpeTrainerResult, type TrainerProgress, trainBpe } from './trainers/bpeTrainer.js';
export { countWords, type TrainingInput, type TrainOptions, trainByteLevelBpe, trainTokenizer, trainWordPiece } from './trainers/train.js';
export {
  BERT_SPECIAL_TOKENS,
  buildWordPieceVocab,
  trainWordPieceTokenizer,
  type WordPieceVocabOptions,
} from './trainers/wordPieceVocab.js';
export type { TruncationOptions } from './truncation.js';
