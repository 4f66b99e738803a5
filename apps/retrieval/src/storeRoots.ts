import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { TesseraError, writeFileAtomic } from '@tessera/core';
import { z } from 'zod';

const sidecarSchema = z.object({ roots: z.array(z.string().min(1)), checkpoint: z.string().min(1).optional() }).strict();

/** What `tessera index` records next to a store: the folders it read and the checkpoint it used. */
export type StoreSidecar = z.infer<typeof sidecarSchema>;

/** The sidecar file of a store (`<store>.roots.json`). */
export function rootsFile(storePath: string): string {
  return `${storePath.replace(/[/\\]+$/, '')}.roots.json`;
}

/** The sidecar of a store: its indexed roots (the only folders `serve` reads images from) and checkpoint. */
export async function readSidecar(storePath: string): Promise<StoreSidecar> {
  const file = rootsFile(storePath);
  if (!existsSync(file)) return { roots: [] };
  let parsed: ReturnType<typeof sidecarSchema.safeParse>;
  try {
    parsed = sidecarSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
  } catch {
    parsed = sidecarSchema.safeParse(null);
  }
  if (!parsed.success) throw new TesseraError('E_STORE_CORRUPT', `${file} is not a store sidecar; rerun \`tessera index\` to rewrite it`);
  return parsed.data;
}

export async function writeSidecar(storePath: string, sidecar: StoreSidecar): Promise<void> {
  await writeFileAtomic(rootsFile(storePath), `${JSON.stringify(sidecar, null, 2)}\n`);
}
