import { TesseraError } from '@tessera/core';
// SigLIP names the same activations as CLIP (its default gelu_pytorch_tanh is the tanh GELU).
import { HF_ACTIVATIONS as ACTIVATIONS, parseFromHf, TO_HF_ACTIVATION } from './clip.js';
import { exportError, HfConfigReader, type PretrainedType, renameTable } from './pretrainedType.js';

/** Tessera names <-> transformers' SiglipModel names; the attention head (`vision_model.head.*`) is named alike. */
const NAMES = renameTable([
  ['vision_model.embeddings.projection.', 'vision_model.embeddings.patch_embedding.'],
  ['vision_model.embeddings.position_embeddings', 'vision_model.embeddings.position_embedding.weight'],
  ['vision_model.layernorm.', 'vision_model.post_layernorm.'],
  ['text_projection.', 'text_model.head.'],
  ['.self_attn_layer_norm.', '.layer_norm1.'],
  ['encoder.layers.{i}.final_layer_norm.', 'encoder.layers.{i}.layer_norm2.'],
]);

const HF_TYPE = 'siglip';

function configError(file: string, field: string, message: string): TesseraError {
  return new TesseraError('E_PRETRAINED_CONFIG', `${file}: ${field} ${message}`, { details: { path: file, field } });
}

/**
 * transformers' SiglipModel (model_type `siglip`): a ViT without class token, pooled by the
 * multihead attention head after `post_layernorm`; a bidirectional text Transformer over ids
 * padded to max_position_embeddings, pooled at the last position and projected by `head`
 * (Linear with bias); sigmoid scores exp(logit_scale) * cos + logit_bias.
 */
export const siglip: PretrainedType = {
  modelTypes: [HF_TYPE],

  fromHfConfig(hf, file) {
    const root = new HfConfigReader(hf, file);
    const v = root.section('vision_config');
    const t = root.section('text_config');
    if (v.hf.vision_use_head === false) {
      throw configError(
        file,
        'vision_config.vision_use_head',
        'is false: SiglipModel needs the attention pooling head for its image features',
      );
    }
    const visionDim = v.int('hidden_size', 768);
    const textDim = t.int('hidden_size', 768);
    const projection = t.hf.projection_size === undefined || t.hf.projection_size === null ? textDim : t.int('projection_size');
    if (projection !== visionDim) {
      throw configError(
        file,
        'text_config.projection_size',
        `is ${projection} but vision_config.hidden_size is ${visionDim}: SigLIP compares them directly`,
      );
    }
    const config = {
      type: 'clip',
      embedDim: visionDim,
      vision: {
        imageSize: v.int('image_size', 224),
        patchSize: v.int('patch_size', 16),
        channels: v.int('num_channels', 3),
        dim: visionDim,
        numHeads: v.int('num_attention_heads', 12),
        numLayers: v.int('num_hidden_layers', 12),
        mlpDim: v.int('intermediate_size', 3072),
        activation: v.choice('hidden_act', ACTIVATIONS, 'gelu_pytorch_tanh'),
        layerNormEps: v.number('layer_norm_eps', 1e-6),
        patchBias: true,
        classToken: false,
        pooling: 'attention',
      },
      text: {
        vocabSize: t.int('vocab_size', 32000),
        maxPositions: t.int('max_position_embeddings', 64),
        dim: textDim,
        numHeads: t.int('num_attention_heads', 12),
        numLayers: t.int('num_hidden_layers', 12),
        mlpDim: t.int('intermediate_size', 3072),
        activation: t.choice('hidden_act', ACTIVATIONS, 'gelu_pytorch_tanh'),
        layerNormEps: t.number('layer_norm_eps', 1e-6),
        causal: false,
        pooling: 'last',
        padToMax: true,
        padTokenId: t.int('pad_token_id', 1),
      },
      scoring: 'sigmoid',
      visionProjection: 'none',
      textProjection: 'linear_bias',
      // SigLIP's training init (t' = ln 10, b = -10); the folder's weights replace both.
      initLogitScale: Math.log(10),
      initLogitBias: -10,
    };
    return parseFromHf(config, file);
  },

  toHfName: NAMES.toHfName,
  fromHfName: NAMES.fromHfName,
  ignoreHf: [/\.position_ids$/],

  hfShape(hfName, shape) {
    if (hfName === 'logit_scale' || hfName === 'logit_bias') return [1];
    if (hfName === 'vision_model.embeddings.position_embedding.weight') return shape.slice(-2);
    return [...shape];
  },

  exportsConfig(config) {
    return config.type === 'clip' && config.scoring === 'sigmoid';
  },

  toHfConfig(config) {
    if (config.type !== 'clip') throw exportError('type', config.type, HF_TYPE, 'Only dual encoders export as SigLIP.');
    const { vision: v, text: t } = config;
    const hint = (what: string) => `Hugging Face SigLIP has ${what}; train with that setting to export.`;
    if (config.scoring !== 'sigmoid') throw exportError('scoring', config.scoring, HF_TYPE, hint("scoring 'sigmoid'"));
    if (config.visionProjection !== 'none')
      throw exportError('visionProjection', config.visionProjection, HF_TYPE, hint("no vision projection ('none')"));
    if (config.textProjection !== 'linear_bias')
      throw exportError('textProjection', config.textProjection, HF_TYPE, hint("a text head with bias ('linear_bias')"));
    if (v.classToken || v.pooling !== 'attention')
      throw exportError('vision.pooling', v.pooling, HF_TYPE, hint("no class token and pooling 'attention'"));
    if (!v.patchBias) throw exportError('vision.patchBias', v.patchBias, HF_TYPE, hint('a patch conv with bias'));
    if (t.causal) throw exportError('text.causal', t.causal, HF_TYPE, hint('a bidirectional text tower'));
    if (t.pooling !== 'last' || !t.padToMax) throw exportError('text.pooling', t.pooling, HF_TYPE, hint("pooling 'last' with padToMax"));
    const extra = t as Record<string, unknown>;
    if (extra.norm === 'post') throw exportError('text.norm', 'post', HF_TYPE, hint('pre-LN layers'));
    return {
      architectures: ['SiglipModel'],
      model_type: HF_TYPE,
      text_config: {
        model_type: 'siglip_text_model',
        vocab_size: t.vocabSize,
        hidden_size: t.dim,
        intermediate_size: t.mlpDim ?? 4 * t.dim,
        num_hidden_layers: t.numLayers,
        num_attention_heads: t.numHeads,
        max_position_embeddings: t.maxPositions,
        hidden_act: TO_HF_ACTIVATION[t.activation],
        layer_norm_eps: t.layerNormEps,
        pad_token_id: t.padTokenId,
        projection_size: config.embedDim,
        attention_dropout: 0,
      },
      vision_config: {
        model_type: 'siglip_vision_model',
        hidden_size: v.dim,
        intermediate_size: v.mlpDim ?? 4 * v.dim,
        num_hidden_layers: v.numLayers,
        num_attention_heads: v.numHeads,
        num_channels: v.channels,
        image_size: v.imageSize,
        patch_size: v.patchSize,
        hidden_act: TO_HF_ACTIVATION[v.activation],
        layer_norm_eps: v.layerNormEps,
        attention_dropout: 0,
      },
    };
  },
};
