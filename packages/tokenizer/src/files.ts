import { readFileSync } from 'node:fs';
import { TesseraError } from '@tessera/base';

/** Reads a UTF-8 file; a failure is E_IO naming the file (`what`: "tokenizer file", ...). */
export function readText(path: string, what?: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new TesseraError('E_IO', `Cannot read ${what ? `${what} ` : ''}${path}: ${(e as Error).message}`, { details: { path } });
  }
}
