/**
 * Stand-in for `loadPretrained` (packages/models/src/pretrained, another branch) for the one
 * folder clipB32.bench.ts uses: an openai/clip-vit-base-patch32-shaped CLIPModel. Builds the
 * DualEncoder from config.json and renames the tensors; CLIP's `pre_layrnorm` (which
 * VisionEncoder gains with `preNorm` on that branch) is applied after the patch embedding.
 * Delete it, and import loadPretrained instead, once that branch is merged.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadSafetensors, type SafetensorsTensor, SeededRandom, TesseraError, tf } from '@tessera/core';
import { LayerNorm, TextEncoder, VisionEncoder } from '@tessera/transformer';
import { DualEncoder } from '../src/index.js';

/** Tessera name -> Hugging Face CLIPModel name. */
function hfName(name: string): string {
  return name
    .replace('self_attn_layer_norm', 'layer_norm1')
    .replace(/layers\.(\d+)\.final_layer_norm/, 'layers.$1.layer_norm2')
    .replace('vision_model.layernorm', 'vision_model.post_layernorm')
    .replace('embeddings.cls_token', 'embeddings.class_embedding')
    .replace('embeddings.projection.weight', 'embeddings.patch_embedding.weight')
    .replace('vision_model.embeddings.position_embeddings', 'vision_model.embeddings.position_embedding.weight');
}

export async function loadClipFolder(dir: string): Promise<{ model: DualEncoder }> {
  const hf = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8'));
  const v = hf.vision_config;
  const t = hf.text_config;
  if (v.hidden_act !== 'quick_gelu' || t.hidden_act !== 'quick_gelu' || t.eos_token_id !== 2) {
    throw new TesseraError(
      'E_PRETRAINED_CONFIG',
      `${dir}/config.json: the stand-in loader reads only openai/clip-vit-base-patch32's layout`,
    );
  }
  const rng = new SeededRandom(0);
  const vision = new VisionEncoder({
    imageSize: v.image_size,
    patchSize: v.patch_size,
    dim: v.hidden_size,
    numHeads: v.num_attention_heads,
    numLayers: v.num_hidden_layers,
    mlpDim: v.intermediate_size,
    activation: 'quick_gelu',
    layerNormEps: v.layer_norm_eps,
    pooling: 'cls',
    rng: rng.fork('vision'),
  });
  // All real tokens end with the EOS (the highest id), so the last real token is the legacy argmax.
  const text = new TextEncoder({
    vocabSize: t.vocab_size,
    maxPositions: t.max_position_embeddings,
    dim: t.hidden_size,
    numHeads: t.num_attention_heads,
    numLayers: t.num_hidden_layers,
    mlpDim: t.intermediate_size,
    activation: 'quick_gelu',
    layerNormEps: t.layer_norm_eps,
    causal: true,
    pooling: 'eos',
    rng: rng.fork('text'),
  });
  const model = new DualEncoder({ vision, text, embedDim: hf.projection_dim, rng: rng.fork('projections') });
  const file = await loadSafetensors(path.join(dir, 'model.safetensors'));
  const tensor = (name: string): SafetensorsTensor => {
    const found = file.tensors.get(name);
    if (!found) throw new TesseraError('E_PRETRAINED_WEIGHTS', `${dir}/model.safetensors has no ${name}`);
    return found;
  };
  const state = new Map<string, SafetensorsTensor>();
  for (const [name, p] of model.namedParameters()) {
    const shape = p.variable.shape;
    // CLIP's patch conv has no bias.
    if (name === 'vision_model.embeddings.projection.bias') state.set(name, { dtype: 'F32', shape, data: new Float32Array(v.hidden_size) });
    else state.set(name, { ...tensor(hfName(name)), shape });
  }
  model.loadStateDict(state);
  const pre = new LayerNorm({ dim: v.hidden_size, eps: v.layer_norm_eps });
  pre.loadStateDict(new Map([...['weight', 'bias']].map((k) => [k, tensor(`vision_model.pre_layrnorm.${k}`)])));
  const embeddings = model.vision_model.embeddings;
  const embed = embeddings.forward.bind(embeddings);
  embeddings.forward = (images, options) => tf.tidy(() => pre.forward(embed(images, options)) as tf.Tensor3D);
  return { model };
}
