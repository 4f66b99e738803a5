// @tessera/tokenizer: Hugging Face-compatible tokenizers (normalizers, pre-tokenizers, WordPiece/BPE, post-processors, decoders) with trainers, for English and Chinese
export {};
