import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { TesseraError } from '@tessera/core';

/** A Hugging Face hub id (`owner/name`), as users paste it from the model page. */
const HUB_ID = /^[A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*$/;

async function isDirectory(dir: string): Promise<boolean> {
  try {
    return (await stat(dir)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Fails with E_PRETRAINED_NOT_FOUND when `dir` is not a folder: Tessera fetches nothing, so a
 * hub id gets the commands that download it on a connected machine.
 */
export async function assertLocalFolder(dir: string): Promise<void> {
  if (await isDirectory(dir)) return;
  const hint = HUB_ID.test(dir)
    ? ` '${dir}' looks like a Hugging Face hub id: Tessera never downloads. On a connected machine run ` +
      `\`huggingface-cli download ${dir} --local-dir ./${path.basename(dir)}\` (or \`git clone https://huggingface.co/${dir}\`), ` +
      `copy the folder here and pass its path.`
    : ' Pass the path of a folder holding config.json.';
  throw new TesseraError('E_PRETRAINED_NOT_FOUND', `${dir} is not a folder.${hint}`, { details: { path: dir } });
}

/** Reads a JSON file of a Hugging Face folder; `code` is the error code for a missing or malformed file. */
export async function readHfJson(file: string, code: string, what: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new TesseraError(code, `cannot read ${file} (${what}): ${(cause as Error).message}`, { details: { path: file }, cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new TesseraError(code, `${file} (${what}) is not valid JSON: ${(cause as Error).message}`, { details: { path: file }, cause });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new TesseraError(code, `${file} (${what}) must hold a JSON object`, { details: { path: file } });
  }
  return json as Record<string, unknown>;
}

/** The `config.json` of a Hugging Face model folder (a hub id is E_PRETRAINED_NOT_FOUND). */
export async function readHfConfig(dir: string): Promise<Record<string, unknown>> {
  await assertLocalFolder(dir);
  return readHfJson(path.join(dir, 'config.json'), 'E_PRETRAINED_CONFIG', 'the model config');
}

/**
 * Whether `dir` is a Hugging Face folder: its config.json has `model_type` (Tessera model
 * directories have `type`). A hub id that is not a folder is E_PRETRAINED_NOT_FOUND.
 */
export async function isHfFolder(dir: string): Promise<boolean> {
  if (!(await isDirectory(dir))) {
    if (HUB_ID.test(dir)) await assertLocalFolder(dir);
    return false;
  }
  try {
    const config = JSON.parse(await readFile(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    return typeof config?.model_type === 'string';
  } catch {
    return false;
  }
}
