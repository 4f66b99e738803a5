import { isTesseraError, parseConfig, TesseraError } from '@tessera/core';
import { BlipCaptioner, type BlipCaptionerConfig, blipCaptionerConfigSchema } from '../blipCaptioner.js';
import { HF_ACTIVATIONS } from './clip.js';
import { hfDefaultNewTokens } from './hfGeneration.js';
import { type HfNameMapping, type HfPart, loadHfWeights } from './hfWeights.js';
import type { PretrainedCaptionerType } from './loadPretrainedCaptioner.js';
import { HfConfigReader, renameTable } from './pretrainedType.js';

/** The architecture of BLIP folders Tessera reads: the captioner (not VQA, retrieval or BlipModel). */
const ARCHITECTURE = 'BlipForConditionalGeneration';

const V = 'vision_model.encoder.layers.{i}.';
const T = 'text_decoder.decoder.layers.{i}.';
const H = 'text_decoder.bert.encoder.layer.{i}.';

/** Tessera BlipCaptioner names <-> transformers' BlipForConditionalGeneration names (the fused qkv aside). */
const NAMES = renameTable([
  ['vision_model.embeddings.projection.', 'vision_model.embeddings.patch_embedding.'],
  ['vision_model.embeddings.cls_token', 'vision_model.embeddings.class_embedding'],
  ['vision_model.embeddings.position_embeddings', 'vision_model.embeddings.position_embedding'],
  ['vision_model.layernorm.', 'vision_model.post_layernorm.'],
  [`${V}self_attn_layer_norm.`, `${V}layer_norm1.`],
  [`${V}final_layer_norm.`, `${V}layer_norm2.`],
  [`${V}self_attn.out_proj.`, `${V}self_attn.projection.`],
  ['text_decoder.embeddings.token_embedding.', 'text_decoder.bert.embeddings.word_embeddings.'],
  ['text_decoder.embeddings.position_embedding.', 'text_decoder.bert.embeddings.position_embeddings.'],
  ['text_decoder.embeddings.layer_norm.', 'text_decoder.bert.embeddings.LayerNorm.'],
  [`${T}self_attn.q_proj.`, `${H}attention.self.query.`],
  [`${T}self_attn.k_proj.`, `${H}attention.self.key.`],
  [`${T}self_attn.v_proj.`, `${H}attention.self.value.`],
  [`${T}self_attn.out_proj.`, `${H}attention.output.dense.`],
  [`${T}self_attn_layer_norm.`, `${H}attention.output.LayerNorm.`],
  [`${T}cross_attn.q_proj.`, `${H}crossattention.self.query.`],
  [`${T}cross_attn.k_proj.`, `${H}crossattention.self.key.`],
  [`${T}cross_attn.v_proj.`, `${H}crossattention.self.value.`],
  [`${T}cross_attn.out_proj.`, `${H}crossattention.output.dense.`],
  [`${T}cross_attn_layer_norm.`, `${H}crossattention.output.LayerNorm.`],
  [`${T}mlp.fc1.`, `${H}intermediate.dense.`],
  [`${T}mlp.fc2.`, `${H}output.dense.`],
  [`${T}final_layer_norm.`, `${H}output.LayerNorm.`],
  ['text_decoder.head_transform.dense.', 'text_decoder.cls.predictions.transform.dense.'],
  ['text_decoder.head_transform.layer_norm.', 'text_decoder.cls.predictions.transform.LayerNorm.'],
  ['text_decoder.lm_head.', 'text_decoder.cls.predictions.decoder.'],
]);

/** BLIP's vision attention keeps query, key and value as the three row blocks of one `qkv` Linear. */
const FUSED_QKV = /^(vision_model\.encoder\.layers\.\d+\.self_attn\.)([qkv])_proj\.(weight|bias)$/;
const QKV_PART: Record<string, number> = { q: 0, k: 1, v: 2 };

/** config.json of a BLIP captioner folder -> BlipCaptioner config; an unsupported switch is E_PRETRAINED_CONFIG naming the key. */
export function blipFromHfConfig(hf: Record<string, unknown>, file: string): BlipCaptionerConfig {
  const root = new HfConfigReader(hf, file);
  const architectures = Array.isArray(hf.architectures) ? hf.architectures : [ARCHITECTURE];
  if (!architectures.includes(ARCHITECTURE)) {
    throw new TesseraError(
      'E_PRETRAINED_CONFIG',
      `${file}: architectures is ${JSON.stringify(hf.architectures)}; Tessera reads BLIP captioners (${ARCHITECTURE}, e.g. Salesforce/blip-image-captioning-base), not BLIP's VQA or retrieval models`,
      { details: { path: file, field: 'architectures' } },
    );
  }
  const v = root.section('vision_config');
  const t = root.section('text_config');
  const vision = {
    imageSize: v.int('image_size', 384),
    patchSize: v.int('patch_size', 16),
    // BlipVisionEmbeddings' conv always reads 3 channels (BlipVisionConfig has no num_channels).
    channels: 3,
    dim: v.int('hidden_size', 768),
    numHeads: v.int('num_attention_heads', 12),
    numLayers: v.int('num_hidden_layers', 12),
    mlpDim: v.int('intermediate_size', 3072),
    activation: v.choice('hidden_act', HF_ACTIVATIONS, 'gelu'),
    layerNormEps: v.number('layer_norm_eps', 1e-5),
  };
  // transformers sets encoder_hidden_size to the vision width; a folder saying otherwise is inconsistent.
  const encoderWidth = t.int('encoder_hidden_size', vision.dim);
  if (encoderWidth !== vision.dim) {
    throw new TesseraError(
      'E_PRETRAINED_CONFIG',
      `${file}: text_config.encoder_hidden_size is ${encoderWidth} but vision_config.hidden_size is ${vision.dim}; BLIP's decoder reads the vision tokens, so they must agree`,
      { details: { path: file, field: 'text_config.encoder_hidden_size' } },
    );
  }
  if (t.hf.is_decoder === false) {
    throw new TesseraError('E_PRETRAINED_CONFIG', `${file}: text_config.is_decoder is false; a BLIP captioner's text model is a decoder`, {
      details: { path: file, field: 'text_config.is_decoder' },
    });
  }
  const tied = hf.tie_word_embeddings !== false || t.hf.tie_word_embeddings !== false;
  const config = {
    vision,
    text: {
      vocabSize: t.int('vocab_size', 30524),
      maxPositions: t.int('max_position_embeddings', 512),
      dim: t.int('hidden_size', 768),
      numHeads: t.int('num_attention_heads', 8),
      numLayers: t.int('num_hidden_layers', 12),
      mlpDim: t.int('intermediate_size', 3072),
      activation: t.choice('hidden_act', HF_ACTIVATIONS, 'gelu'),
      layerNormEps: t.number('layer_norm_eps', 1e-12),
    },
    tieWordEmbeddings: tied,
    bosTokenId: t.int('bos_token_id', 30522),
    sepTokenId: t.int('sep_token_id', 102),
    padTokenId: t.int('pad_token_id', 0),
  };
  try {
    return parseConfig(blipCaptionerConfigSchema, config, file);
  } catch (cause) {
    if (!isTesseraError(cause, 'E_CONFIG')) throw cause;
    throw new TesseraError('E_PRETRAINED_CONFIG', `${file} describes a BLIP model Tessera cannot build: ${cause.message}`, {
      details: { path: file },
      cause,
    });
  }
}

/**
 * How a BlipCaptioner's parameters lie in a BLIP folder's safetensors. transformers ties the LM
 * head to the word embeddings unless both `tie_word_embeddings` (the top level's and
 * text_config's) are false; untied, the head is `cls.predictions.decoder` with its own bias (our
 * `lm_head`), and `cls.predictions.bias` is unused.
 */
export function blipHfMapping(config: BlipCaptionerConfig): HfNameMapping {
  const tied = config.tieWordEmbeddings;
  return {
    toHfName(name) {
      // Tied, the logits bias is `cls.predictions.bias` (the head's own bias is tied to it, not saved).
      if (name === 'text_decoder.output_bias') return 'text_decoder.cls.predictions.bias';
      const fused = FUSED_QKV.exec(name);
      return fused ? `${fused[1]}qkv.${fused[3]}` : NAMES.toHfName(name);
    },
    hfPart(name): HfPart | undefined {
      const fused = FUSED_QKV.exec(name);
      return fused ? { part: QKV_PART[fused[2] as string] as number, parts: 3 } : undefined;
    },
    // Buffers, and the head tensors the other tying leaves unused (older saves hold both).
    ignoreHf: [/\.position_ids$/, ...(tied ? [/^text_decoder\.cls\.predictions\.decoder\./] : [/^text_decoder\.cls\.predictions\.bias$/])],
  };
}

/** Hugging Face `blip` captioner folders (BlipForConditionalGeneration), for loadPretrainedCaptioner. */
export const blipCaptionerType: PretrainedCaptionerType = {
  modelTypes: ['blip'],
  async load(dir, hf, file) {
    const read = blipFromHfConfig(hf, file);
    // The prompt is [DEC] alone.
    const config = { ...read, maxNewTokens: await hfDefaultNewTokens(dir, 1, read.text.maxPositions) };
    const model = new BlipCaptioner(config);
    try {
      await loadHfWeights(model, dir, blipHfMapping(config));
    } catch (cause) {
      model.dispose();
      throw cause;
    }
    return model;
  },
};
