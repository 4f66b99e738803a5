import { mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { TesseraError, writeFileAtomic } from '@tessera/core';
import { Captioner, type CaptionerConfig, captionerConfigSchema } from './captioner.js';
import { CaptionVocab } from './captionVocab.js';

/** File names inside a captioner directory. */
export const CAPTIONER_FILES = {
  config: 'config.json',
  weights: 'model.safetensors',
  vocab: 'vocab.json',
} as const;

export interface LoadedCaptioner {
  model: Captioner;
  vocab: CaptionVocab;
  config: CaptionerConfig;
  dir: string;
}

/** Writes a captioner directory: config.json (`type: "captioner"`), model.safetensors, vocab.json; each atomically. */
export async function saveCaptioner(dir: string, model: Captioner, vocab: CaptionVocab): Promise<void> {
  if (vocab.size !== model.config.vocabSize) {
    throw new TesseraError('E_CONFIG', `saveCaptioner: vocabulary has ${vocab.size} tokens, the model ${model.config.vocabSize}`);
  }
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(path.join(dir, CAPTIONER_FILES.config), `${JSON.stringify({ type: 'captioner', ...model.config }, null, 2)}\n`);
  await writeFileAtomic(path.join(dir, CAPTIONER_FILES.vocab), `${JSON.stringify(vocab.toJson())}\n`);
  await model.save(path.join(dir, CAPTIONER_FILES.weights), { format: 'pt', tessera_model: 'captioner' });
}

async function readJson(file: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new TesseraError(
      'E_IO',
      `cannot read ${file}: a captioner directory holds config.json, vocab.json and model.safetensors (written by saveCaptioner or by tessera train with a task: captioning config)`,
      { details: { path: file }, cause },
    );
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new TesseraError('E_MODEL_FORMAT', `${file} is not valid JSON (${what})`, { details: { path: file }, cause });
  }
}

/** Reloads a directory written by `saveCaptioner` (strict: every weight present, none extra). */
export async function loadCaptioner(dir: string): Promise<LoadedCaptioner> {
  const raw = (await readJson(path.join(dir, CAPTIONER_FILES.config), 'captioner config')) as Record<string, unknown>;
  if (raw?.type !== 'captioner') {
    throw new TesseraError('E_MODEL_FORMAT', `${dir} is not a captioner directory (config.json type is ${JSON.stringify(raw?.type)})`);
  }
  const { type: _t, ...rest } = raw;
  const config = captionerConfigSchema.safeParse(rest);
  if (!config.success) throw new TesseraError('E_CONFIG', `${dir}/config.json: ${config.error.message}`);
  const vocab = CaptionVocab.fromJson(await readJson(path.join(dir, CAPTIONER_FILES.vocab), 'caption vocabulary'));
  const weights = path.join(dir, CAPTIONER_FILES.weights);
  await stat(weights).catch((cause) => {
    throw new TesseraError('E_IO', `${weights} is missing: the captioner directory has a config but no weights`, { cause });
  });
  const model = new Captioner(config.data);
  try {
    await model.load(weights, { strict: true });
  } catch (cause) {
    model.dispose();
    throw cause;
  }
  return { model, vocab, config: model.config, dir };
}
