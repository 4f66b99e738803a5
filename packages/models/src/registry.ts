import { SeededRandom, TesseraError } from '@tessera/core';
import { type AlbefConfig, type ClipConfig, type ModelConfig, type ModelConfigInput, parseModelConfig } from './config.js';
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

export type AnyModel = DualEncoder | FusionModel | TowerEncoder;

export interface CreateModelOptions {
  /** Overrides text.vocabSize (e.g. the tokenizer's vocabulary size). */
  vocabSize?: number;
  /** Overrides the config's seed. */
  seed?: number;
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
    ...('text' in base ? { text: { ...base.text, ...(options.vocabSize !== undefined ? { vocabSize: options.vocabSize } : {}) } } : {}),
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
