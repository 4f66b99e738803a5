import { readdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import { TesseraError } from '@tessera/core';
import { readManifest } from '@tessera/data';

/** Extensions `tessera index` picks up when walking a folder. */
export const IMAGE_EXTENSIONS = new Set(['png', 'jpg', 'jpeg', 'webp', 'gif', 'tif', 'tiff', 'avif', 'bmp']);

/** One image to index: its id (path relative to the root, `/`-separated), absolute path and caption. */
export interface SourceImage {
  id: string;
  path: string;
  caption?: string;
}

export interface ImageListing {
  /** The directory every image must lie inside (the folder, or the manifest's directory). */
  root: string;
  images: SourceImage[];
  /** Rows the manifest reader skipped, by reason. */
  skipped: Record<string, number>;
}

/** Lists the images of a folder (recursively, by extension) or of a manifest (JSONL/CSV/TSV). */
export async function listImages(source: string): Promise<ImageListing> {
  const resolved = path.resolve(source);
  let root: string;
  try {
    root = await realpath(resolved);
  } catch {
    throw new TesseraError('E_IO', `--images ${source} does not exist: give a folder of images or a manifest file`);
  }
  const entries = await readdir(root, { withFileTypes: true }).catch(() => null);
  if (entries !== null) {
    const images: SourceImage[] = [];
    await walk(root, root, images);
    images.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { root, images, skipped: {} };
  }
  const manifest = await readManifest(root);
  const dir = path.dirname(root);
  const images: SourceImage[] = [];
  for (const r of manifest.records) {
    if (!('path' in r.image)) continue; // manifests always name files; inline bytes come only from WebDataset shards
    const caption = r.captions[0]?.text;
    images.push({ id: r.key, path: r.image.path, ...(caption === undefined ? {} : { caption }) });
  }
  return { root: dir, images, skipped: manifest.skipped.counts() };
}

async function walk(root: string, dir: string, out: SourceImage[]): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) await walk(root, full, out);
    else if ((entry.isFile() || entry.isSymbolicLink()) && IMAGE_EXTENSIONS.has(path.extname(entry.name).slice(1).toLowerCase())) {
      out.push({ id: path.relative(root, full).split(path.sep).join('/'), path: full });
    }
  }
}

/** True when `file` resolves (symlinks followed) to a path inside one of `roots`. */
export async function insideRoots(file: string, roots: readonly string[]): Promise<boolean> {
  let real: string;
  try {
    real = await realpath(file);
  } catch {
    return false;
  }
  return roots.some((root) => {
    const rel = path.relative(root, real);
    return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
  });
}
