import { type Progress, progress, TesseraError } from '@tessera/base';
import { Command, InvalidArgumentError } from 'commander';
import { Tokenizer } from './tokenizer.js';
import type { TrainerProgress } from './trainers/bpeTrainer.js';
import { trainTokenizer } from './trainers/train.js';

/** Options of `createTokenizerCommand`, for embedding the command or testing it. */
export interface TokenizerCommandOptions {
  /** Where results go (default: process.stdout). */
  write?: (text: string) => void;
  /** Show training progress on stderr (default true). */
  showProgress?: boolean;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a non-negative integer');
  return n;
}

/**
 * The `tokenizer` command for the `tessera` CLI:
 * `tokenizer train --files a.txt b.txt --type bpe|wordpiece --vocab-size N --out tokenizer.json` and
 * `tokenizer encode --tokenizer tokenizer.json --json "text"` (prints {"ids": [...], "tokens": [...]}).
 */
export function createTokenizerCommand(options: TokenizerCommandOptions = {}): Command {
  const write = options.write ?? ((text: string) => process.stdout.write(text));
  const command = new Command('tokenizer').description('Train Hugging Face-compatible tokenizers and encode text');

  command
    .command('train')
    .description('Train a byte-level BPE or a WordPiece tokenizer on text files (one text per line)')
    .requiredOption('--files <files...>', 'training text files')
    .option('--type <type>', 'bpe (byte-level) or wordpiece', 'bpe')
    .option('--vocab-size <n>', 'vocabulary size, special tokens included', positiveInt, 30000)
    .option('--min-frequency <n>', 'minimum pair frequency for a merge', nonNegativeInt, 0)
    .option('--limit-alphabet <n>', 'keep at most this many initial characters', positiveInt)
    .requiredOption('--out <path>', 'where to write tokenizer.json')
    .action(async (o: { files: string[]; type: string; vocabSize: number; minFrequency: number; limitAlphabet?: number; out: string }) => {
      if (o.type !== 'bpe' && o.type !== 'wordpiece') {
        throw new TesseraError('E_CONFIG', `--type must be bpe or wordpiece, got ${o.type}.`, { details: { field: 'type' } });
      }
      const start = Date.now();
      let bar: Progress | null = null;
      let shown = 0;
      const onProgress = (p: TrainerProgress) => {
        if (!(options.showProgress ?? true) || p.stage !== 'merge' || p.total === 0) return;
        bar ??= progress({ label: `train ${o.type}`, total: p.total, unit: 'merges' });
        bar.tick(p.done - shown);
        shown = p.done;
      };
      const tokenizer = await trainTokenizer(
        { files: o.files },
        { type: o.type, vocabSize: o.vocabSize, minFrequency: o.minFrequency, limitAlphabet: o.limitAlphabet, onProgress },
      );
      (bar as Progress | null)?.stop();
      await tokenizer.save(o.out);
      write(`${JSON.stringify({ out: o.out, type: o.type, vocabSize: tokenizer.vocabSize, seconds: (Date.now() - start) / 1000 })}\n`);
    });

  command
    .command('encode')
    .description('Encode a text with a tokenizer.json')
    .requiredOption('--tokenizer <path>', 'tokenizer.json to use')
    .option('--json', 'print {"ids": [...], "tokens": [...]}')
    .option('--no-special-tokens', 'do not add [CLS]/[SEP]-style special tokens')
    .argument('<text>', 'text to encode')
    .action((text: string, o: { tokenizer: string; json?: boolean; specialTokens: boolean }) => {
      const encoding = Tokenizer.fromFile(o.tokenizer).encode(text, null, { addSpecialTokens: o.specialTokens });
      write(
        o.json
          ? `${JSON.stringify({ ids: encoding.ids, tokens: encoding.tokens })}\n`
          : `${encoding.tokens.join(' ')}\n${encoding.ids.join(' ')}\n`,
      );
    });

  return command;
}
