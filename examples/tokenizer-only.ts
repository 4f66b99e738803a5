// Tokenize with @tessera/tokenizer alone: no tensor library is loaded.
// Usage: tsx tokenizer-only.ts <tokenizer.json> "a photo of a cat" ["more text" ...]
import { Tokenizer } from '@tessera/tokenizer';

const [file, ...texts] = process.argv.slice(2);
if (!file || texts.length === 0) {
  console.error('usage: tokenizer-only.ts <tokenizer.json> <text> [text ...]');
  process.exit(2);
}

// Any Hugging Face tokenizer.json: WordPiece, BPE, byte-level BPE, Unigram.
const tokenizer = Tokenizer.fromFile(file);

for (const text of texts) {
  const encoding = tokenizer.encode(text); // special tokens added by the post-processor
  const decoded = tokenizer.decode(encoding.ids, { skipSpecialTokens: true });
  // One JSON line per text, so another program can read the ids.
  console.log(JSON.stringify({ text, ids: encoding.ids, tokens: encoding.tokens, decoded }));
}
