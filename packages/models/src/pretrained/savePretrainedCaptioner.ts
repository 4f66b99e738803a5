import { mkdir, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { type SafetensorsTensor, serializeSafetensors, TesseraError, writeFileAtomic } from '@tessera/core';
import type { CaptionModel } from '../captionModel.js';
import { readHfConfig } from './hfFolder.js';
import { HF_WEIGHTS_FILE, HF_WEIGHTS_INDEX } from './hfWeights.js';
import { PRETRAINED_CAPTIONERS } from './loadPretrainedCaptioner.js';

/** The folder's files besides the weights and config.json: tokenizer, processor, generation settings (JSON, vocab.txt, merges.txt, SentencePiece). */
function isSideFile(name: string): boolean {
  if (name === 'config.json' || name === HF_WEIGHTS_INDEX || name.endsWith('.index.json')) return false;
  return /\.(json|txt|model)$/.test(name);
}

/**
 * Writes `model` (loaded from the Hugging Face captioner folder `from`, then fine-tuned) as a
 * folder of the same type: `from`'s config.json (dtype float32), model.safetensors with
 * transformers' tensor names, and `from`'s tokenizer, processor and generation files, so
 * `loadCaptioner`, `tessera caption` and transformers' `from_pretrained` all read it.
 * A type without a name table is E_EXPORT; writing over `from` itself is E_INPUT.
 */
export async function savePretrainedCaptioner(outDir: string, model: CaptionModel, from: string): Promise<void> {
  if (path.resolve(outDir) === path.resolve(from)) {
    throw new TesseraError(
      'E_INPUT',
      `savePretrainedCaptioner: ${outDir} is the folder the model was loaded from; write to another folder`,
    );
  }
  const hf = await readHfConfig(from);
  const type = PRETRAINED_CAPTIONERS.find((t) => (t.modelTypes as readonly string[]).includes(hf.model_type as string));
  if (!type?.toHfName) {
    throw new TesseraError(
      'E_EXPORT',
      `${path.join(from, 'config.json')}: Tessera cannot write model_type ${JSON.stringify(hf.model_type)}`,
      {
        details: { setting: 'model_type', value: hf.model_type },
      },
    );
  }
  const tensors = new Map<string, SafetensorsTensor>();
  for (const [name, p] of model.namedParameters()) {
    const hfName = type.toHfName(name);
    const shape = type.hfShape ? type.hfShape(hfName, p.variable.shape) : [...p.variable.shape];
    tensors.set(hfName, { dtype: 'F32', shape, data: Float32Array.from(await p.variable.data()) });
  }
  await mkdir(outDir, { recursive: true });
  for (const name of (await readdir(from)).filter(isSideFile)) {
    await writeFileAtomic(path.join(outDir, name), await readFile(path.join(from, name)));
  }
  // Weights are written as float32 whatever the source held.
  await writeFileAtomic(path.join(outDir, 'config.json'), `${JSON.stringify({ ...hf, dtype: 'float32' }, null, 2)}\n`);
  await writeFileAtomic(path.join(outDir, HF_WEIGHTS_FILE), serializeSafetensors(tensors, { format: 'pt' }));
}
