import { stat } from 'node:fs/promises';
import path from 'node:path';
import { LANCE_MANIFEST, LANCE_TABLE } from './lanceStore.js';

/** Identity and change stamp of one path, or 'absent'. */
async function stamp(file: string): Promise<string> {
  try {
    const s = await stat(file, { bigint: true });
    return `${s.ino}:${s.size}:${s.mtimeNs}`;
  } catch {
    return 'absent';
  }
}

/**
 * A cheap stamp (one or two `stat` calls, no reads) that changes whenever the store at
 * `storePath` is rewritten: an exact store's file is replaced by rename on every flush (new
 * inode), and a LanceDB store adds a file to its table's `_versions` folder on every commit
 * (folder mtime) or rewrites its manifest. Equal stamps mean the store is as it was when
 * opened; a reader compares stamps to know when to reopen.
 */
export async function storeVersion(storePath: string): Promise<string> {
  const top = await stamp(storePath);
  // A directory store: the manifest and the table's version log say when it changed.
  const lance = await stamp(path.join(storePath, LANCE_MANIFEST));
  if (lance === 'absent') return top;
  return `${top}|${lance}|${await stamp(path.join(storePath, `${LANCE_TABLE}.lance`, '_versions'))}`;
}
