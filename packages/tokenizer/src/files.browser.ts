// The tokenizer's file access in a browser: there is none. package.json maps `#files` here under
// the `browser` condition (src/files.ts on Node), so the browser bundle needs no node:fs, and
// every path-taking function fails with E_PLATFORM saying what to pass instead.
import { TesseraError } from '@tessera/base';

function noFiles(action: string, path: string, instead: string): TesseraError {
  return new TesseraError('E_PLATFORM', `Cannot ${action} ${path}: in a browser @tessera/tokenizer has no file system. ${instead}`, {
    details: { path },
  });
}

/** Always E_PLATFORM: fetch the file and pass its text (Tokenizer.fromString) or lines (fromBertVocab). */
export function readText(path: string, what?: string): string {
  throw noFiles(
    `read ${what ?? 'file'}`,
    path,
    'Fetch it and pass its contents: Tokenizer.fromString(await (await fetch(url)).text()), or Tokenizer.fromBertVocab(lines).',
  );
}

/** Always E_PLATFORM (a rejected promise): keep `tokenizer.toJSON()` instead. */
export function writeTextAtomic(path: string, _text: string): Promise<void> {
  return Promise.reject(noFiles('write', path, 'Keep JSON.stringify(tokenizer.toJSON()) instead (it is the tokenizer.json text).'));
}

/** Always E_PLATFORM: train from an array or (async) iterable of texts instead of `{ files }`. */
export function textChunks(path: string): AsyncIterable<string> {
  throw noFiles('read training file', path, 'Pass the texts as an array or (async) iterable of strings instead of { files: [...] }.');
}
