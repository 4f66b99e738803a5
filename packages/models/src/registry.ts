import { SeededRandom, TesseraError } from '@tessera/core';
import {
  type AlbefConfig,
  type ClipConfig,
  type ModelConfig,
  type ModelConfigInput,
  parseModelConfig,
  type TextTowerConfig,
} from './config.js';
import { DualEncoder } from './dualEncoder.js';
import { FusionModel } from './fusionModel.js';
import { MODEL_PRESETS } from './presets.js';
import { TowerEncoder } from './towerEncoder.js';
import { buildProjection, buildTextTower, buildVisionTower } from './towers.js';

/** Names of the built-in model presets. */
export function listModels(): string[] {
  return Object.keys(MODEL_PRESETS);
}

/** A preset's config (a copy), or E_CONFIG listing the presets. Presets are dual encoders (CLIP, ALBEF). */
export function modelConfig(name: string): ClipConfig | AlbefConfig {
  const preset = MODEL_PRESETS[name];
  if (!preset)
    throw new TesseraError('E_CONFIG', `unknown model '${name}'; choose one of: ${listModels().join(', ')}`, { details: { name } });
  return parseModelConfig(structuredClone(preset)) as ClipConfig | AlbefConfig;
}

/**
 * A model written as a preset and the fields that differ from it, e.g.
 * `{ preset: 'clip-tiny-hf', initLogitScale: 3.912 }` (what a run config's `model` may hold).
 */
export interface PresetModelSpec {
  /** The preset the model starts from (`listModels()`). */
  preset: string;
  /** Fields of the model config that replace the preset's (nested objects are merged key by key). */
  [field: string]: unknown;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `base` with `changes` set: nested objects merged key by key, anything else replaced. */
function mergeFields(base: Record<string, unknown>, changes: Record<string, unknown>): Record<string, unknown> {
  const out = { ...base };
  for (const [key, value] of Object.entries(changes)) {
    const old = out[key];
    out[key] = isPlainObject(old) && isPlainObject(value) ? mergeFields(old, value) : value;
  }
  return out;
}

/**
 * The model config of a `PresetModelSpec`: the preset's config with the spec's other fields
 * merged in. Not validated, so that the caller's schema (`modelConfigSchema`, `parseModelConfig`)
 * names a bad or unknown field by its path; an unknown preset is E_CONFIG listing the presets.
 */
export function expandPreset(spec: PresetModelSpec): ModelConfigInput {
  const { preset, ...changes } = spec;
  const base = MODEL_PRESETS[preset];
  if (!base)
    throw new TesseraError('E_CONFIG', `unknown model preset '${preset}'; choose one of: ${listModels().join(', ')}`, {
      details: { name: preset },
    });
  return mergeFields(structuredClone(base) as Record<string, unknown>, changes) as ModelConfigInput;
}

/**
 * What `createModel` and `loadModel` build: a `DualEncoder` (type 'clip'), a `FusionModel`
 * ('albef') or a `TowerEncoder` ('vision_tower', 'text_tower').
 */
export type AnyModel = DualEncoder | FusionModel | TowerEncoder;

/** Settings `createModel` applies to the config before building; the config it returns includes them. */
export interface CreateModelOptions {
  /** Overrides text.vocabSize (e.g. the tokenizer's vocabulary size). */
  vocabSize?: number;
  /** Overrides the config's seed. */
  seed?: number;
  /** The tokenizer's end-of-text id: fills text.eosTokenId of an 'eos'-pooled tower that has none. */
  eosTokenId?: number;
}

/** A text tower config with the tokenizer's sizes and ids from `options`. */
function textOverrides(text: TextTowerConfig, options: CreateModelOptions): TextTowerConfig {
  const out = { ...text };
  if (options.vocabSize !== undefined) out.vocabSize = options.vocabSize;
  if (options.eosTokenId !== undefined && out.pooling === 'eos' && out.eosTokenId === undefined) out.eosTokenId = options.eosTokenId;
  return out;
}

/**
 * Builds a model from a preset name or a config object (validated; unknown fields fail with
 * their path). Returns the model and its resolved config, which `saveModel` writes.
 */
export function createModel(
  nameOrConfig: string | ModelConfigInput,
  options: CreateModelOptions = {},
): { model: AnyModel; config: ModelConfig } {
  const base = typeof nameOrConfig === 'string' ? modelConfig(nameOrConfig) : parseModelConfig(nameOrConfig);
  const config = parseModelConfig({
    ...base,
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...('text' in base ? { text: textOverrides(base.text, options) } : {}),
  });
  const rng = new SeededRandom(config.seed);
  if (config.type === 'vision_tower') {
    const vision = buildVisionTower(config.vision, rng);
    const projection = buildProjection(
      config.visionProjection,
      config.vision.dim,
      config.embedDim,
      rng.fork('heads').fork('visual_projection'),
    );
    return { model: new TowerEncoder({ vision, projection }), config };
  }
  if (config.type === 'text_tower') {
    const text = buildTextTower(config.text, rng);
    const projection = buildProjection(config.textProjection, config.text.dim, config.embedDim, rng.fork('heads').fork('text_projection'));
    return { model: new TowerEncoder({ text, projection }), config };
  }
  const vision = buildVisionTower(config.vision, rng);
  const text = buildTextTower(config.text, rng);
  if (config.type === 'clip') {
    const model = new DualEncoder({
      vision,
      text,
      embedDim: config.embedDim,
      initLogitScale: config.initLogitScale,
      maxLogitScale: config.maxLogitScale,
      scoring: config.scoring,
      initLogitBias: config.initLogitBias,
      visionProjection: config.visionProjection,
      textProjection: config.textProjection,
      rng: rng.fork('heads'),
    });
    return { model, config };
  }
  const model = new FusionModel({
    vision,
    text,
    embedDim: config.embedDim,
    fusionLayers: config.fusion.numLayers,
    fusionHeads: config.fusion.numHeads,
    fusionMlpDim: config.fusion.mlpDim,
    initLogitScale: config.initLogitScale,
    maxLogitScale: config.maxLogitScale,
    lossWeights: config.lossWeights,
    maskProbability: config.maskProbability,
    rng: rng.fork('heads'),
  });
  return { model, config };
}
