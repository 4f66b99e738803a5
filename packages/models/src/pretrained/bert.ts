import { TesseraError } from '@tessera/core';
import type { TextTowerConfig } from '../config.js';
import { HF_ACTIVATIONS, parseFromHf, TO_HF_ACTIVATION } from './clip.js';
import { exportError, HfConfigReader, type PretrainedType, renameTable } from './pretrainedType.js';

/** Tessera TextEncoder names <-> transformers' BertModel names (also Chinese-CLIP's text tower under `text_model.`). */
export const BERT_NAMES = renameTable([
  ['embeddings.token_embedding.', 'embeddings.word_embeddings.'],
  ['embeddings.token_type_embedding.', 'embeddings.token_type_embeddings.'],
  ['embeddings.position_embedding.', 'embeddings.position_embeddings.'],
  ['embeddings.layer_norm.', 'embeddings.LayerNorm.'],
  ['encoder.layers.{i}.self_attn.q_proj.', 'encoder.layer.{i}.attention.self.query.'],
  ['encoder.layers.{i}.self_attn.k_proj.', 'encoder.layer.{i}.attention.self.key.'],
  ['encoder.layers.{i}.self_attn.v_proj.', 'encoder.layer.{i}.attention.self.value.'],
  ['encoder.layers.{i}.self_attn.out_proj.', 'encoder.layer.{i}.attention.output.dense.'],
  ['encoder.layers.{i}.self_attn_layer_norm.', 'encoder.layer.{i}.attention.output.LayerNorm.'],
  ['encoder.layers.{i}.mlp.fc1.', 'encoder.layer.{i}.intermediate.dense.'],
  ['encoder.layers.{i}.mlp.fc2.', 'encoder.layer.{i}.output.dense.'],
  ['encoder.layers.{i}.final_layer_norm.', 'encoder.layer.{i}.output.LayerNorm.'],
]);

/** A switch of a BERT config Tessera does not build: E_PRETRAINED_CONFIG naming the key. */
function unsupported(r: HfConfigReader, key: string, value: unknown, what: string): never {
  throw new TesseraError('E_PRETRAINED_CONFIG', `${r.file}: ${r.prefix}${key} is ${JSON.stringify(value)}; ${what}`, {
    details: { path: r.file, field: `${r.prefix}${key}` },
  });
}

/**
 * BertConfig / ChineseCLIPTextConfig (defaults of transformers 5.18) -> Tessera text tower:
 * post-LN, bidirectional, absolute positions, token types, pooled at [CLS] (as Chinese-CLIP).
 */
export function bertTextFromHf(r: HfConfigReader) {
  r.choice('position_embedding_type', { absolute: true }, 'absolute');
  if (r.hf.is_decoder === true) unsupported(r, 'is_decoder', true, 'Tessera reads BERT as a bidirectional encoder only.');
  if (r.hf.add_cross_attention === true) unsupported(r, 'add_cross_attention', true, 'Tessera reads BERT without cross-attention.');
  return {
    vocabSize: r.int('vocab_size', 30522),
    maxPositions: r.int('max_position_embeddings', 512),
    dim: r.int('hidden_size', 768),
    numHeads: r.int('num_attention_heads', 12),
    numLayers: r.int('num_hidden_layers', 12),
    mlpDim: r.int('intermediate_size', 3072),
    activation: r.choice('hidden_act', HF_ACTIVATIONS, 'gelu'),
    layerNormEps: r.number('layer_norm_eps', 1e-12),
    typeVocabSize: r.int('type_vocab_size', 2),
    padTokenId: r.int('pad_token_id', 0),
    // Fine-tuning keeps BERT's hidden dropout (attention dropout is not a tower setting).
    dropout: r.number('hidden_dropout_prob', 0.1),
    norm: 'post' as const,
    causal: false,
    pooling: 'cls' as const,
  };
}

/** Tessera text tower -> BertConfig keys, or E_EXPORT naming what BERT cannot express. */
export function bertTextToHf(t: TextTowerConfig, hfType: string): Record<string, unknown> {
  const hint =
    "A BERT text tower is post-LN, bidirectional, with token types, pooled at [CLS] (norm 'post', pooling 'cls', typeVocabSize >= 1).";
  if (t.norm !== 'post') throw exportError('text.norm', t.norm, hfType, hint);
  if (t.causal) throw exportError('text.causal', t.causal, hfType, hint);
  if (t.pooling !== 'cls') throw exportError('text.pooling', t.pooling, hfType, hint);
  if (t.typeVocabSize < 1) throw exportError('text.typeVocabSize', t.typeVocabSize, hfType, hint);
  return {
    vocab_size: t.vocabSize,
    max_position_embeddings: t.maxPositions,
    hidden_size: t.dim,
    num_attention_heads: t.numHeads,
    num_hidden_layers: t.numLayers,
    intermediate_size: t.mlpDim ?? 4 * t.dim,
    hidden_act: TO_HF_ACTIVATION[t.activation],
    layer_norm_eps: t.layerNormEps,
    type_vocab_size: t.typeVocabSize,
    position_embedding_type: 'absolute',
    hidden_dropout_prob: t.dropout,
    attention_probs_dropout_prob: 0,
    ...(t.padTokenId !== undefined ? { pad_token_id: t.padTokenId } : {}),
  };
}

const PREFIX = 'text_model.';
/** Where BertFor* heads checkpoints (bert-base-chinese, ...) keep the encoder; BertModel saves without it. */
const BERT_PREFIX = 'bert.';

/**
 * Hugging Face `bert` (BertModel) as a Tessera text tower: embedTexts gives the [CLS] state of
 * the last layer, L2-normalised. BertModel's pooler (dense + tanh, trained for next-sentence
 * prediction) and the heads of BertFor* checkpoints (tensors under `bert.`, heads under `cls.`)
 * are ignored on load, so a folder with or without them reads the same; exported folders have
 * none (transformers then initialises a pooler, which Tessera's embeddings never use).
 */
export const bert: PretrainedType = {
  modelTypes: ['bert'],

  fromHfConfig(hf, file) {
    return parseFromHf({ type: 'text_tower', text: bertTextFromHf(new HfConfigReader(hf, file)), textProjection: 'none' }, file);
  },

  toHfName: (name) => (name.startsWith(PREFIX) ? `${BERT_PREFIX}${BERT_NAMES.toHfName(name.slice(PREFIX.length))}` : name),
  fromHfName: (hfName) => `${PREFIX}${BERT_NAMES.fromHfName(hfName.startsWith(BERT_PREFIX) ? hfName.slice(BERT_PREFIX.length) : hfName)}`,
  optionalPrefixes: [BERT_PREFIX],
  // The pooler and the pre-training heads (masked LM, next sentence) are not part of the text tower.
  ignoreHf: [/^(bert\.)?pooler\./, /^cls\./, /\.position_ids$/, /\.token_type_ids$/],

  exportsConfig: (config) => config.type === 'text_tower' && config.text.norm === 'post',

  toHfConfig(config) {
    if (config.type !== 'text_tower') throw exportError('type', config.type, 'bert', 'Only a text tower alone exports as a BertModel.');
    if (config.textProjection !== 'none') {
      throw exportError('textProjection', config.textProjection, 'bert', 'BertModel has no projection: use textProjection none.');
    }
    return { architectures: ['BertModel'], model_type: 'bert', ...bertTextToHf(config.text, 'bert') };
  },
};
