// The tokenizer's file access on Node. Browsers get src/files.browser.ts instead: package.json maps
// `#files` to one or the other by the `browser` condition, so the browser entry bundles without
// node:fs. Both files export the same three functions.
import { createReadStream, readFileSync } from 'node:fs';
import { TesseraError, writeFileAtomic } from '@tessera/base';

/** Reads a UTF-8 file; a failure is E_IO naming the file (`what`: "tokenizer file", ...). */
export function readText(path: string, what?: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new TesseraError('E_IO', `Cannot read ${what ? `${what} ` : ''}${path}: ${(e as Error).message}`, { details: { path } });
  }
}

/** Writes `text` to `path` through a temp file and a rename. */
export function writeTextAtomic(path: string, text: string): Promise<void> {
  return writeFileAtomic(path, text);
}

/** The UTF-8 text of a file in chunks, streamed (read errors surface while iterating). */
export function textChunks(path: string): AsyncIterable<string> {
  return createReadStream(path, { encoding: 'utf8' });
}
