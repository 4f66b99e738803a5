import { readFile } from 'node:fs/promises';
import { SkipSample } from './skipCounter.js';

/** One caption of an image; `lang` is a BCP 47 tag such as `en` or `zh` when known. */
export interface Caption {
  text: string;
  lang?: string;
}

/** Where a record's image is: a file on disk (manifests) or bytes already read (tar shards). */
export type ImageRef = { path: string; ext: string } | { bytes: Uint8Array; ext: string };

/** A text-image pair as every source yields it: one image, one or more captions. */
export interface DataRecord {
  /** Unique within its source: the image path relative to the manifest, or the WebDataset key. */
  key: string;
  image: ImageRef;
  captions: Caption[];
  split?: string;
  /** Every other field of the manifest row or sample JSON (category, concept, style, ...). */
  meta: Record<string, unknown>;
}

/** Lower-case extension without the dot, `jpeg` folded to `jpg` (the WebDataset convention). */
export function imageExtension(name: string): string {
  const dot = name.lastIndexOf('.');
  const ext = dot < 0 ? '' : name.slice(dot + 1).toLowerCase();
  return ext === 'jpeg' ? 'jpg' : ext;
}

/** The image's encoded bytes; a missing file is skipped as `missing_image`, not thrown. */
export async function loadImageBytes(record: DataRecord): Promise<Uint8Array> {
  if ('bytes' in record.image) return record.image.bytes;
  try {
    return new Uint8Array(await readFile(record.image.path));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new SkipSample('missing_image', `image not found: ${record.image.path}`);
    throw error;
  }
}

/**
 * Reads captions from a manifest row or sample JSON value: a string, an array of strings, or
 * an array of `{ text, lang }` objects. `lang` is the row's language for plain strings.
 * Blank captions are dropped; `null` means the value has the wrong shape.
 */
export function parseCaptions(value: unknown, lang: string | undefined): Caption[] | null {
  const items = Array.isArray(value) ? value : [value];
  const out: Caption[] = [];
  for (const item of items) {
    if (typeof item === 'string') {
      const text = item.trim();
      if (text !== '') out.push(lang === undefined ? { text } : { text, lang });
    } else if (item !== null && typeof item === 'object' && typeof (item as Caption).text === 'string') {
      const text = (item as Caption).text.trim();
      const itemLang = typeof (item as Caption).lang === 'string' ? (item as Caption).lang : lang;
      if (text !== '') out.push(itemLang === undefined ? { text } : { text, lang: itemLang });
    } else if (item !== undefined && item !== null) {
      return null;
    }
  }
  return out;
}
