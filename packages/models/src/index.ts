/**
 * @tessera/models: multimodal model compositions on @tessera/transformer and
 * @tessera/objectives — a CLIP dual encoder, an ALBEF fusion model, a video captioner, a
 * classification head for fine-tuning and zero-shot classification — described by JSON configs
 * with presets in a registry, saved and reloaded as model directories (config, safetensors,
 * tokenizer or caption vocabulary, preprocessor).
 *
 * @module @tessera/models
 */

export { type BatchTensorOptions, type BatchTensors, encodeBatchToTensors } from './batchTensors.js';
export {
  BlipCaptioner,
  type BlipCaptionerConfig,
  type BlipCaptionerConfigInput,
  blipCaptionerConfigSchema,
} from './blipCaptioner.js';
export { Captioner } from './captioner.js';
export {
  type CaptionGenerateOptions,
  type CaptionModel,
  type CaptionText,
  captionGenerateConfig,
  type LoadedCaptioner,
  trimEos,
} from './captionModel.js';
export { CAPTION_LANGS, CAPTION_VOCAB_IDS, type CaptionLang, CaptionVocab, type CaptionVocabJson } from './captionVocab.js';
export { ClassificationHead, type ClassificationHeadOptions, ImageClassifier } from './classificationHead.js';
export {
  type AlbefConfig,
  albefConfigSchema,
  type CaptionerConfig,
  type CaptionerConfigInput,
  type ClipConfig,
  captionerBaseSchema,
  captionerConfigSchema,
  clipConfigSchema,
  type ModelConfig,
  type ModelConfigInput,
  modelConfigSchema,
  PROJECTIONS,
  type Projection,
  parseModelConfig,
  type TextTowerConfig,
  type TextTowerModelConfig,
  textTowerModelSchema,
  textTowerSchema,
  type VisionTowerConfig,
  type VisionTowerModelConfig,
  visionTowerModelSchema,
  visionTowerSchema,
} from './config.js';
export { DualEncoder, type DualEncoderBatch, type DualEncoderLogits, type DualEncoderOptions } from './dualEncoder.js';
export { embedImages } from './embedImages.js';
export { embedTexts } from './embedTexts.js';
export { type FusionBatch, FusionModel, type FusionModelOptions, type FusionOutput } from './fusionModel.js';
export { GitCaptioner, type GitCaptionerConfig, type GitCaptionerConfigInput, gitCaptionerConfigSchema } from './gitCaptioner.js';
export {
  captionerProcessor,
  defaultProcessorConfig,
  type LoadedModel,
  type LoadedTesseraCaptioner,
  loadCaptioner,
  loadModel,
  loadTesseraCaptioner,
  MODEL_FILES,
  type SavedModel,
  saveCaptioner,
  saveModel,
} from './modelDirectory.js';
export { MODEL_PRESETS } from './presets.js';
export { bert as bertPretrained } from './pretrained/bert.js';
export { blipCaptionerType, blipFromHfConfig, blipHfMapping } from './pretrained/blip.js';
export { chineseClip as chineseClipPretrained } from './pretrained/chineseClip.js';
export { clip as clipPretrained } from './pretrained/clip.js';
export { type ExportableModel, exportHf } from './pretrained/exportHf.js';
export { gitCaptionerType, gitFromHfConfig, gitFromHfName, gitToHfName } from './pretrained/git.js';
export { HfCaptionText } from './pretrained/hfCaptionText.js';
export { assertLocalFolder, isHfFolder, readHfConfig } from './pretrained/hfFolder.js';
export { loadHfProcessor } from './pretrained/hfProcessor.js';
export { hasHfTokenizer, loadHfTokenizer } from './pretrained/hfTokenizer.js';
export {
  type HfNameMapping,
  type HfPart,
  type HfTensorEntry,
  listHfWeights,
  loadHfWeights,
  readSafetensorsIndex,
} from './pretrained/hfWeights.js';
export { type LoadedPretrained, loadPretrained, PRETRAINED_TYPES, pretrainedTypeFor } from './pretrained/loadPretrained.js';
export { loadPretrainedCaptioner, PRETRAINED_CAPTIONERS, type PretrainedCaptionerType } from './pretrained/loadPretrainedCaptioner.js';
export { exportError, HfConfigReader, type PretrainedType, renameTable } from './pretrained/pretrainedType.js';
export { savePretrainedCaptioner } from './pretrained/savePretrainedCaptioner.js';
export {
  type AnyModel,
  type CreateModelOptions,
  createModel,
  expandPreset,
  listModels,
  modelConfig,
  type PresetModelSpec,
} from './registry.js';
export { padTokenId, type TokenizedTexts, textTensors, tokenizeTexts } from './textBatch.js';
export { TowerEncoder } from './towerEncoder.js';
export { buildProjection, buildTextTower, buildVisionTower } from './towers.js';
export { type ContrastiveEncoder, ZeroShotClassifier, type ZeroShotOptions } from './zeroShot.js';
