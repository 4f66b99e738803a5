import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { mixedCaptions } from '../test/captions.js';
import { bertTokenizerJSON, tmp } from '../test/reference.js';
import { createTokenizerCommand } from './cli.js';
import { Tokenizer } from './tokenizer.js';

/** Runs `tessera tokenizer ...` as the future CLI will mount it; returns what it printed. */
async function run(args: string[]): Promise<string> {
  let out = '';
  const program = new Command('tessera');
  program.addCommand(createTokenizerCommand({ write: (t) => (out += t), showProgress: false }));
  // Throw instead of exiting, at every level, and keep commander's messages out of the test log.
  const quiet = (c: Command) => {
    c.exitOverride().configureOutput({ writeErr: () => {} });
    for (const sub of c.commands) quiet(sub);
  };
  quiet(program);
  await program.parseAsync(['tokenizer', ...args], { from: 'user' });
  return out;
}

describe('tessera tokenizer CLI', () => {
  const corpus = path.join(tmp, 'cli-corpus.txt');
  writeFileSync(corpus, mixedCaptions(500).join('\n'));

  it('trains a byte-level BPE and a WordPiece tokenizer.json', async () => {
    // bpe: 2 special tokens + 256 bytes + merges; wordpiece: 5 special tokens + characters + merges.
    for (const [type, size] of [
      ['bpe', 300],
      ['wordpiece', 150],
    ] as const) {
      const out = path.join(tmp, `cli-${type}.json`);
      const printed = JSON.parse(
        await run(['train', '--files', corpus, corpus, '--type', type, '--vocab-size', String(size), '--out', out]),
      );
      expect(printed).toMatchObject({ out, type, vocabSize: size });
      expect(Tokenizer.fromFile(out).vocabSize).toBe(size);
    }
  });

  it('encodes with --json as {"ids", "tokens"}', async () => {
    const file = path.join(tmp, 'cli-bert.json');
    writeFileSync(file, JSON.stringify(bertTokenizerJSON()));
    expect(JSON.parse(await run(['encode', '--tokenizer', file, '--json', 'Hello world']))).toEqual({
      ids: [101, 7592, 2088, 102],
      tokens: ['[CLS]', 'hello', 'world', '[SEP]'],
    });
    expect(await run(['encode', '--tokenizer', file, '--no-special-tokens', 'Hello world'])).toBe('hello world\n7592 2088\n');
  });

  it('rejects bad options', async () => {
    await expect(run(['train', '--files', corpus, '--type', 'unigram', '--out', path.join(tmp, 'x.json')])).rejects.toMatchObject({
      code: 'E_CONFIG',
    });
    await expect(run(['train', '--files', corpus, '--vocab-size', 'many', '--out', path.join(tmp, 'x.json')])).rejects.toThrow(
      /positive integer/,
    );
    await expect(run(['encode', '--tokenizer', path.join(tmp, 'missing.json'), 'x'])).rejects.toMatchObject({ code: 'E_IO' });
  });
});
