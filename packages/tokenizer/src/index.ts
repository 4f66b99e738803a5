/**
 * @tessera/tokenizer: Hugging Face-compatible tokenizers (normalizers, pre-tokenizers, WordPiece/BPE,
 * post-processors, decoders) with trainers, for English and Chinese.
 *
 * @module @tessera/tokenizer
 */
// Everything that also runs in a browser (the `browser` export condition's entry), and the CLI.
export * from './browser.js';
export { createTokenizerCommand, type TokenizerCommandOptions } from './cli.js';
