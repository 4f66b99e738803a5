import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseConfig, TesseraError, writeFileAtomic } from '@tessera/core';
import { z } from 'zod';
import { parseCsv } from './csv.js';
import { type Caption, type DataRecord, imageExtension, parseCaptions } from './record.js';
import { SkipCounter } from './skipCounter.js';

/** Image (or video) keys tried in order when `imageKey` is not given (ours, open_clip, Hugging Face imagefolder, video manifests). */
export const DEFAULT_IMAGE_KEYS = ['image', 'filepath', 'file_name', 'path', 'video'] as const;
/** Caption keys tried in order when `captionKey` is not given. */
export const DEFAULT_CAPTION_KEYS = ['captions', 'caption', 'text', 'title'] as const;

/** Checks `ManifestOptions`; `readManifest` throws E_CONFIG for a bad or unknown field. */
export const manifestOptionsSchema = z
  .object({
    /** `jsonl`, `csv` or `tsv`; by default from the file extension (`.jsonl`/`.json`/`.ndjson`, `.csv`, `.tsv`). */
    format: z.enum(['jsonl', 'csv', 'tsv']).optional(),
    /** Column holding the image path, relative to the manifest (open_clip's `--csv-img-key`). */
    imageKey: z.string().min(1).optional(),
    /** Column holding the caption(s) (open_clip's `--csv-caption-key`). */
    captionKey: z.string().min(1).optional(),
    /** Column holding the language of the row's plain-string captions (`{ text, lang }` captions keep their own). */
    langKey: z.string().min(1).default('lang'),
    /** Column holding the record's split (e.g. `train`, `val`); empty means none. */
    splitKey: z.string().min(1).default('split'),
    /** CSV field separator; `,` for csv and a tab for tsv by default. */
    separator: z.string().length(1).optional(),
  })
  .strict();
/**
 * How `readManifest` reads a manifest: its format, which columns hold the image path, caption(s),
 * language and split (by default the first of DEFAULT_IMAGE_KEYS / DEFAULT_CAPTION_KEYS present,
 * `lang` and `split`), and the CSV separator.
 */
export type ManifestOptions = z.input<typeof manifestOptionsSchema>;

/** A manifest read into memory: one record per distinct image, captions of repeated rows merged. */
export interface Manifest {
  path: string;
  records: DataRecord[];
  /** Data rows read (blank lines and the CSV header excluded). */
  rows: number;
  skipped: SkipCounter;
}

function formatOf(file: string, format: ManifestOptions['format']): 'jsonl' | 'csv' | 'tsv' {
  if (format) return format;
  const ext = path.extname(file).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.tsv' || ext === '.tab') return 'tsv';
  if (ext === '.jsonl' || ext === '.json' || ext === '.ndjson') return 'jsonl';
  throw new TesseraError('E_INPUT', `Cannot tell the format of manifest ${file}: name it .jsonl, .csv or .tsv, or pass format.`, {
    details: { path: file },
  });
}

/** Reads a JSONL or CSV/TSV manifest. Bad rows are skipped and counted in `skipped`; only an unreadable file throws. */
export async function readManifest(file: string, options: ManifestOptions = {}): Promise<Manifest> {
  const opts = parseConfig(manifestOptionsSchema, options, 'manifest options');
  const format = formatOf(file, opts.format);
  const dir = path.dirname(path.resolve(file));
  const skipped = new SkipCounter();
  const byImage = new Map<string, DataRecord>();
  let rows = 0;

  const addRow = (row: Record<string, unknown>, where: string) => {
    rows++;
    const imageKey = opts.imageKey ?? DEFAULT_IMAGE_KEYS.find((k) => k in row);
    const image = imageKey === undefined ? undefined : row[imageKey];
    if (typeof image !== 'string' || image.trim() === '') {
      skipped.add('missing_image_path', where);
      return;
    }
    const captionKey = opts.captionKey ?? DEFAULT_CAPTION_KEYS.find((k) => k in row);
    const lang = row[opts.langKey];
    const captions = parseCaptions(
      captionKey === undefined ? undefined : row[captionKey],
      typeof lang === 'string' && lang !== '' ? lang : undefined,
    );
    if (captions === null) {
      skipped.add('malformed_line', where, `field "${captionKey}" must be a string or an array of strings or {text, lang}`);
      return;
    }
    if (captions.length === 0) {
      skipped.add('empty_caption', where);
      return;
    }
    const absolute = path.resolve(dir, image.trim());
    const existing = byImage.get(absolute);
    if (existing) {
      existing.captions.push(...captions);
      return;
    }
    const split = row[opts.splitKey];
    const meta: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(row)) {
      if (k !== imageKey && k !== captionKey && k !== opts.langKey && k !== opts.splitKey) meta[k] = v;
    }
    const record: DataRecord = {
      key: path.relative(dir, absolute).split(path.sep).join('/'),
      image: { path: absolute, ext: imageExtension(absolute) },
      captions,
      meta,
    };
    if (typeof split === 'string' && split !== '') record.split = split;
    byImage.set(absolute, record);
  };

  try {
    if (format === 'jsonl') {
      const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Number.POSITIVE_INFINITY });
      let lineNo = 0;
      for await (const raw of lines) {
        lineNo++;
        const line = lineNo === 1 ? raw.replace(/^\uFEFF/, '') : raw;
        if (line.trim() === '') continue;
        let row: unknown;
        try {
          row = JSON.parse(line);
        } catch {
          rows++;
          skipped.add('malformed_line', `${file}:${lineNo}`, 'not valid JSON');
          continue;
        }
        if (row === null || typeof row !== 'object' || Array.isArray(row)) {
          rows++;
          skipped.add('malformed_line', `${file}:${lineNo}`, 'not a JSON object');
          continue;
        }
        addRow(row as Record<string, unknown>, `${file}:${lineNo}`);
      }
    } else {
      const text = await readFile(file, 'utf8');
      const separator = opts.separator ?? (format === 'csv' ? ',' : '\t');
      let header: string[] | null = null;
      for (const parsed of parseCsv(text, separator)) {
        const where = `${file}:${parsed.line}`;
        if ('error' in parsed) {
          if (header !== null) rows++;
          skipped.add('malformed_line', where, parsed.error);
          continue;
        }
        if (header === null) {
          header = parsed.fields.map((h) => h.trim());
          continue;
        }
        if (parsed.fields.length !== header.length) {
          rows++;
          skipped.add('malformed_line', where, `${parsed.fields.length} fields, header has ${header.length}`);
          continue;
        }
        const cols = header;
        addRow(Object.fromEntries(parsed.fields.map((v, i) => [cols[i], v])), where);
      }
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new TesseraError('E_IO', `Manifest not found: ${file}. Check the path (image paths inside are relative to it).`, {
        details: { path: file },
        cause: error,
      });
    }
    throw error;
  }
  return { path: file, records: [...byImage.values()], rows, skipped };
}

/** One JSONL row: the image (or `video`) path relative to the manifest, captions as `{ text, lang }`, meta fields at top level. */
export interface ManifestRow {
  captions: Caption[];
  split?: string;
  [field: string]: unknown;
}

/** Writes rows as JSONL atomically (temp file, then rename). */
export async function writeManifest(file: string, rows: readonly ManifestRow[]): Promise<void> {
  await writeFileAtomic(file, rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
}
