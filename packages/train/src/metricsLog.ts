import { appendFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { TesseraError, writeFileAtomic } from '@tessera/core';

/** One line of metrics.jsonl: `kind` is 'train', 'eval' or 'data' (the skip counts at each epoch's end); the rest are numbers by name. */
export interface MetricsRecord {
  kind: 'train' | 'eval' | (string & {});
  step: number;
  [name: string]: number | string;
}

/** An append-only JSON Lines log of metrics, one object per line. */
export class MetricsLog {
  constructor(readonly file: string) {}

  /** Appends one record as a JSON line, creating the log's directory if needed. */
  async append(record: MetricsRecord): Promise<void> {
    await mkdir(path.dirname(this.file), { recursive: true });
    await appendFile(this.file, `${JSON.stringify(record)}\n`);
  }

  /** Every record, in order; a missing file is an empty log. A torn last line (crash mid-append) is dropped. */
  async read(): Promise<MetricsRecord[]> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new TesseraError('E_IO', `cannot read metrics log ${this.file}: ${(error as Error).message}`, { cause: error });
    }
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    const out: MetricsRecord[] = [];
    for (const [i, line] of lines.entries()) {
      try {
        out.push(JSON.parse(line) as MetricsRecord);
      } catch (error) {
        if (i === lines.length - 1 && !text.endsWith('\n')) break;
        throw new TesseraError('E_IO', `metrics log ${this.file} line ${i + 1} is not JSON`, { cause: error });
      }
    }
    return out;
  }

  /** Drops records after `step` (a resumed run rewrites the steps it repeats). */
  async truncateAfter(step: number): Promise<void> {
    const kept = (await this.read()).filter((r) => r.step <= step);
    await writeFileAtomic(this.file, kept.map((r) => `${JSON.stringify(r)}\n`).join(''));
  }
}
