import { isTesseraError, TesseraError } from '@tessera/core';
import type { Activation } from '@tessera/transformer';
import { type ModelConfig, parseModelConfig, type TextTowerConfig, type VisionTowerConfig } from '../config.js';
import { exportError, HfConfigReader, type PretrainedType, renameTable } from './pretrainedType.js';

/** HF `hidden_act` -> Tessera activation (gelu_new is the same tanh approximation). */
export const HF_ACTIVATIONS: Record<string, Activation> = {
  quick_gelu: 'quick_gelu',
  gelu: 'gelu',
  gelu_pytorch_tanh: 'gelu_tanh',
  gelu_new: 'gelu_tanh',
  relu: 'relu',
};
export const TO_HF_ACTIVATION: Record<Activation, string> = {
  quick_gelu: 'quick_gelu',
  gelu: 'gelu',
  gelu_tanh: 'gelu_pytorch_tanh',
  relu: 'relu',
};

/** transformers' CLIPTextModel pools `argmax(input_ids)` when eos_token_id is this legacy value. */
const LEGACY_EOS = 2;

/** Tessera names <-> transformers' CLIPModel / CLIPVisionModel / CLIPTextModel names. */
const NAMES = renameTable([
  ['vision_model.embeddings.projection.weight', 'vision_model.embeddings.patch_embedding.weight'],
  ['vision_model.embeddings.cls_token', 'vision_model.embeddings.class_embedding'],
  ['vision_model.embeddings.position_embeddings', 'vision_model.embeddings.position_embedding.weight'],
  ['vision_model.layernorm.', 'vision_model.post_layernorm.'],
  ['.self_attn_layer_norm.', '.layer_norm1.'],
  ['encoder.layers.{i}.final_layer_norm.', 'encoder.layers.{i}.layer_norm2.'],
]);

/** CLIPVisionConfig (defaults of transformers 5.18) -> Tessera vision tower. */
export function clipVisionFromHf(r: HfConfigReader) {
  return {
    imageSize: r.int('image_size', 224),
    patchSize: r.int('patch_size', 32),
    channels: r.int('num_channels', 3),
    dim: r.int('hidden_size', 768),
    numHeads: r.int('num_attention_heads', 12),
    numLayers: r.int('num_hidden_layers', 12),
    mlpDim: r.int('intermediate_size', 3072),
    activation: r.choice('hidden_act', HF_ACTIVATIONS, 'quick_gelu'),
    layerNormEps: r.number('layer_norm_eps', 1e-5),
    pooling: 'cls' as const,
    preNorm: true,
    patchBias: false,
    classToken: true,
  };
}

/** CLIPTextConfig -> Tessera text tower: causal, pooled at the EOS by transformers' rule. */
export function clipTextFromHf(r: HfConfigReader) {
  const eos = r.int('eos_token_id', 49407);
  return {
    vocabSize: r.int('vocab_size', 49408),
    maxPositions: r.int('max_position_embeddings', 77),
    dim: r.int('hidden_size', 512),
    numHeads: r.int('num_attention_heads', 8),
    numLayers: r.int('num_hidden_layers', 12),
    mlpDim: r.int('intermediate_size', 2048),
    activation: r.choice('hidden_act', HF_ACTIVATIONS, 'quick_gelu'),
    layerNormEps: r.number('layer_norm_eps', 1e-5),
    causal: true,
    ...(eos === LEGACY_EOS ? { pooling: 'argmax' as const } : { pooling: 'eos' as const, eosTokenId: eos }),
  };
}

function withProjection(hf: Record<string, unknown>): boolean {
  return Array.isArray(hf.architectures) && hf.architectures.some((a) => typeof a === 'string' && a.endsWith('WithProjection'));
}

/** Validates a Tessera config built from an HF file; a bad value is E_PRETRAINED_CONFIG naming that file. */
export function parseFromHf(config: unknown, file: string): ModelConfig {
  try {
    return parseModelConfig(config);
  } catch (cause) {
    if (!isTesseraError(cause, 'E_CONFIG')) throw cause;
    throw new TesseraError('E_PRETRAINED_CONFIG', `${file} describes a model Tessera cannot build: ${cause.message}`, {
      details: { path: file },
      cause,
    });
  }
}

export function visionToHf(v: VisionTowerConfig, hfType: string): Record<string, unknown> {
  const hint = 'Hugging Face CLIP has a class token pooled, pre_layrnorm and a bias-free patch conv; train with those settings to export.';
  if (!v.classToken || v.pooling !== 'cls') throw exportError('vision.pooling', v.pooling, hfType, hint);
  if (!v.preNorm) throw exportError('vision.preNorm', v.preNorm, hfType, hint);
  if (v.patchBias) throw exportError('vision.patchBias', v.patchBias, hfType, hint);
  return {
    model_type: 'clip_vision_model',
    image_size: v.imageSize,
    patch_size: v.patchSize,
    num_channels: v.channels,
    hidden_size: v.dim,
    num_attention_heads: v.numHeads,
    num_hidden_layers: v.numLayers,
    intermediate_size: v.mlpDim ?? 4 * v.dim,
    hidden_act: TO_HF_ACTIVATION[v.activation],
    layer_norm_eps: v.layerNormEps,
    attention_dropout: 0,
  };
}

function textToHf(t: TextTowerConfig, hfType: string): Record<string, unknown> {
  const hint = "Hugging Face CLIP's text tower is causal and pools the EOS token (pooling 'eos' with eosTokenId, or 'argmax').";
  if (!t.causal) throw exportError('text.causal', t.causal, hfType, hint);
  if (t.pooling !== 'eos' && t.pooling !== 'argmax') throw exportError('text.pooling', t.pooling, hfType, hint);
  if (t.pooling === 'eos' && (t.eosTokenId === undefined || t.eosTokenId === LEGACY_EOS)) {
    throw exportError(
      'text.eosTokenId',
      t.eosTokenId ?? null,
      hfType,
      `${hint} transformers reads eos_token_id 2 as the legacy argmax rule.`,
    );
  }
  const extra = t as Record<string, unknown>;
  if (extra.norm === 'post') throw exportError('text.norm', 'post', hfType, hint);
  return {
    model_type: 'clip_text_model',
    vocab_size: t.vocabSize,
    max_position_embeddings: t.maxPositions,
    hidden_size: t.dim,
    num_attention_heads: t.numHeads,
    num_hidden_layers: t.numLayers,
    intermediate_size: t.mlpDim ?? 4 * t.dim,
    hidden_act: TO_HF_ACTIVATION[t.activation],
    layer_norm_eps: t.layerNormEps,
    eos_token_id: t.pooling === 'argmax' ? LEGACY_EOS : t.eosTokenId,
    attention_dropout: 0,
  };
}

function projectionDim(kind: string, setting: string, embedDim: number | undefined, hfType: string): number | undefined {
  if (kind === 'linear') return embedDim;
  if (kind === 'none' && hfType !== 'clip') return undefined;
  throw exportError(setting, kind, hfType, 'Hugging Face CLIP projects each tower with a bias-free linear layer.');
}

/**
 * Hugging Face CLIP: `clip` (CLIPModel) as a Tessera 'clip' dual encoder, `clip_vision_model` /
 * `clip_text_model` (CLIPVisionModel, CLIPTextModel, `*WithProjection` when `architectures` says
 * so) as a tower alone. The vision tower has pre_layrnorm and a bias-free patch conv; the text
 * tower is causal and pooled at eos_token_id (the highest id for the legacy value 2). Exports back
 * to the same types.
 */
export const clip: PretrainedType = {
  modelTypes: ['clip', 'clip_vision_model', 'clip_text_model'],

  fromHfConfig(hf, file) {
    const root = new HfConfigReader(hf, file);
    const type = root.string('model_type');
    if (type === 'clip') {
      return parseFromHf(
        {
          type: 'clip',
          embedDim: root.int('projection_dim', 512),
          vision: clipVisionFromHf(root.section('vision_config')),
          text: clipTextFromHf(root.section('text_config')),
          initLogitScale: root.number('logit_scale_init_value', 2.6592),
        },
        file,
      );
    }
    const projected = withProjection(hf);
    if (type === 'clip_vision_model') {
      const r = hf.vision_config ? root.section('vision_config') : root;
      return parseFromHf(
        {
          type: 'vision_tower',
          vision: clipVisionFromHf(r),
          visionProjection: projected ? 'linear' : 'none',
          ...(projected ? { embedDim: r.int('projection_dim', 512) } : {}),
        },
        file,
      );
    }
    const r = hf.text_config ? root.section('text_config') : root;
    return parseFromHf(
      {
        type: 'text_tower',
        text: clipTextFromHf(r),
        textProjection: projected ? 'linear' : 'none',
        ...(projected ? { embedDim: r.int('projection_dim', 512) } : {}),
      },
      file,
    );
  },

  toHfName: NAMES.toHfName,
  fromHfName: NAMES.fromHfName,
  ignoreHf: [/\.position_ids$/],
  optionalPrefixes: ['text_model.', 'vision_model.'],

  hfShape(hfName, shape) {
    if (hfName.endsWith('embeddings.class_embedding')) return [shape[shape.length - 1] as number];
    if (hfName.startsWith('vision_model.') && hfName.endsWith('embeddings.position_embedding.weight')) return shape.slice(-2);
    return [...shape];
  },

  exportsConfig(config) {
    const extra = config as unknown as { scoring?: string; text?: { norm?: string } };
    return ['clip', 'vision_tower', 'text_tower'].includes(config.type) && extra.scoring !== 'sigmoid' && extra.text?.norm !== 'post';
  },

  toHfConfig(config) {
    if (config.type === 'clip') {
      projectionDim(config.visionProjection, 'visionProjection', config.embedDim, 'clip');
      projectionDim(config.textProjection, 'textProjection', config.embedDim, 'clip');
      return {
        architectures: ['CLIPModel'],
        model_type: 'clip',
        projection_dim: config.embedDim,
        logit_scale_init_value: config.initLogitScale,
        vision_config: { ...visionToHf(config.vision, 'clip'), projection_dim: config.embedDim },
        text_config: { ...textToHf(config.text, 'clip'), projection_dim: config.embedDim },
      };
    }
    if (config.type === 'vision_tower') {
      const dim = projectionDim(config.visionProjection, 'visionProjection', config.embedDim, 'clip_vision_model');
      return {
        architectures: [dim ? 'CLIPVisionModelWithProjection' : 'CLIPVisionModel'],
        ...visionToHf(config.vision, 'clip_vision_model'),
        ...(dim ? { projection_dim: dim } : {}),
      };
    }
    if (config.type === 'text_tower') {
      const dim = projectionDim(config.textProjection, 'textProjection', config.embedDim, 'clip_text_model');
      return {
        architectures: [dim ? 'CLIPTextModelWithProjection' : 'CLIPTextModel'],
        ...textToHf(config.text, 'clip_text_model'),
        ...(dim ? { projection_dim: dim } : {}),
      };
    }
    throw exportError('type', config.type, 'clip', 'Only CLIP dual encoders and single towers export as Hugging Face CLIP.');
  },
};
