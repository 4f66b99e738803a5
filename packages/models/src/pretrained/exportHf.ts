import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { type Module, type SafetensorsTensor, serializeSafetensors, TesseraError, writeFileAtomic } from '@tessera/core';
import type { ImageProcessor } from '@tessera/patches';
import type { Tokenizer } from '@tessera/tokenizer';
import type { ModelConfig } from '../config.js';
import { defaultProcessorConfig } from '../modelDirectory.js';
import { HF_PREPROCESSOR_FILE } from './hfProcessor.js';
import { HF_WEIGHTS_FILE } from './hfWeights.js';
import { PRETRAINED_TYPES } from './loadPretrained.js';
import type { PretrainedType } from './pretrainedType.js';

/** What `exportHf` writes: a loaded Tessera model directory or pretrained folder. */
export interface ExportableModel {
  model: Module;
  config: ModelConfig;
  tokenizer?: Tokenizer | null;
  processor?: ImageProcessor | null;
}

/** The type that writes `config`, or E_EXPORT when no supported Hugging Face type can. */
export function exportTypeFor(config: ModelConfig): PretrainedType {
  const type = PRETRAINED_TYPES.find((t) => t.exportsConfig(config));
  if (!type) {
    throw new TesseraError('E_EXPORT', `no Hugging Face model type expresses a Tessera '${config.type}' model`, {
      details: { setting: 'type', value: config.type },
    });
  }
  return type;
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/**
 * Writes a Hugging Face folder transformers loads with AutoModel / AutoTokenizer /
 * AutoImageProcessor: config.json, model.safetensors (HF tensor names, float32), tokenizer.json
 * with tokenizer_config.json and special_tokens_map.json, preprocessor_config.json. An
 * architecture no HF type expresses is E_EXPORT naming the setting; nothing is written then.
 */
export async function exportHf(loaded: ExportableModel, outDir: string): Promise<void> {
  const { model, config, tokenizer, processor } = loaded;
  const type = exportTypeFor(config);
  const hfConfig = type.toHfConfig(config);
  const special = tokenizer?.specialTokens ?? {};
  if (tokenizer) {
    // The ids the tokenizer pads and starts with, where transformers' text config keeps them.
    const target = (hfConfig.text_config as Record<string, unknown> | undefined) ?? hfConfig;
    if (special.bos && target.bos_token_id === undefined) target.bos_token_id = special.bos.id;
    if (special.pad && target.pad_token_id === undefined) target.pad_token_id = special.pad.id;
  }
  const tensors = new Map<string, SafetensorsTensor>();
  for (const [name, p] of model.namedParameters()) {
    const hfName = type.toHfName(name);
    const shape = type.hfShape ? type.hfShape(hfName, p.variable.shape) : [...p.variable.shape];
    tensors.set(hfName, { dtype: 'F32', shape, data: Float32Array.from(await p.variable.data()) });
  }
  await mkdir(outDir, { recursive: true });
  await writeFileAtomic(path.join(outDir, 'config.json'), json(hfConfig));
  await writeFileAtomic(path.join(outDir, HF_WEIGHTS_FILE), serializeSafetensors(tensors, { format: 'pt' }));
  if (tokenizer) {
    await tokenizer.save(path.join(outDir, 'tokenizer.json'));
    const tokens = Object.fromEntries(
      (['bos', 'eos', 'unk', 'pad', 'cls', 'sep', 'mask'] as const).flatMap((r) => (special[r] ? [[`${r}_token`, special[r].token]] : [])),
    );
    const maxLength = 'text' in config ? config.text.maxPositions : undefined;
    await writeFileAtomic(
      path.join(outDir, 'tokenizer_config.json'),
      json({ tokenizer_class: type.tokenizerClass ?? 'PreTrainedTokenizerFast', model_max_length: maxLength, ...tokens }),
    );
    await writeFileAtomic(path.join(outDir, 'special_tokens_map.json'), json(tokens));
  }
  if ('vision' in config) {
    const pre = processor?.config ?? defaultProcessorConfig(config);
    await writeFileAtomic(path.join(outDir, HF_PREPROCESSOR_FILE), json({ image_processor_type: 'CLIPImageProcessor', ...pre }));
  }
}
