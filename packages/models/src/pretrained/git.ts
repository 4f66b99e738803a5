import { stat } from 'node:fs/promises';
import path from 'node:path';
import { TesseraError } from '@tessera/core';
import { GitCaptioner, type GitCaptionerConfig, gitCaptionerConfigSchema } from '../gitCaptioner.js';
import { BERT_NAMES } from './bert.js';
import { clip, clipVisionFromHf, HF_ACTIVATIONS } from './clip.js';
import { readHfJson } from './hfFolder.js';
import { loadHfWeights } from './hfWeights.js';
import type { PretrainedCaptionerType } from './loadPretrainedCaptioner.js';
import { HfConfigReader, renameTable } from './pretrainedType.js';

/** Tessera GitCaptioner names <-> transformers' GitForCausalLM names, outside the towers' own tables. */
const GIT_NAMES = renameTable([
  ['visual_projection.linear.', 'git.visual_projection.visual_projection.0.'],
  ['visual_projection.layer_norm.', 'git.visual_projection.visual_projection.1.'],
  ['img_temporal_embedding.', 'git.img_temporal_embedding.'],
  ['decoder.lm_head.', 'output.'],
  ['decoder.output_bias', 'output.bias'],
]);
const VISION = 'vision_model.';
const HF_VISION = 'git.image_encoder.';
const LAYERS = 'decoder.decoder.layers.';
const EMBEDDINGS = 'decoder.embeddings.';

/** Tessera parameter name -> GitForCausalLM tensor name. */
export function gitToHfName(name: string): string {
  if (name.startsWith(VISION)) return `${HF_VISION}${clip.toHfName(name)}`;
  if (name.startsWith(LAYERS)) return `git.${BERT_NAMES.toHfName(`encoder.layers.${name.slice(LAYERS.length)}`)}`;
  if (name.startsWith(EMBEDDINGS)) return `git.${BERT_NAMES.toHfName(name.slice('decoder.'.length))}`;
  return GIT_NAMES.toHfName(name);
}

/** GitForCausalLM tensor name -> Tessera parameter name. */
export function gitFromHfName(hfName: string): string {
  if (hfName.startsWith(HF_VISION)) return clip.fromHfName(hfName.slice(HF_VISION.length));
  if (hfName.startsWith('git.encoder.layer.')) return `decoder.decoder.${BERT_NAMES.fromHfName(hfName.slice(4)).replace(/^encoder\./, '')}`;
  if (hfName.startsWith('git.embeddings.')) return `decoder.${BERT_NAMES.fromHfName(hfName.slice(4))}`;
  return GIT_NAMES.fromHfName(hfName);
}

/**
 * The shape transformers stores a tensor in: the CLIP tower's class and position embeddings
 * without Tessera's leading 1s; each temporal embedding as [1, 1, dim].
 */
export function gitHfShape(hfName: string, shape: readonly number[]): number[] {
  if (hfName.startsWith(HF_VISION) && clip.hfShape) return clip.hfShape(hfName.slice(HF_VISION.length), shape);
  if (hfName.startsWith('git.img_temporal_embedding.')) return [1, 1, ...shape];
  return [...shape];
}

/**
 * GitConfig (defaults of transformers 5.18) -> a GitCaptioner config. A video checkpoint
 * (num_image_with_embedding N) reads N frames with temporal embeddings; an image one reads 1.
 */
export function gitFromHfConfig(hf: Record<string, unknown>, file: string): GitCaptionerConfig {
  const r = new HfConfigReader(hf, file);
  const v = r.section('vision_config');
  const frames =
    hf.num_image_with_embedding === null || hf.num_image_with_embedding === undefined ? null : r.int('num_image_with_embedding');
  const vision = {
    ...clipVisionFromHf(v),
    patchSize: v.int('patch_size', 16),
    activation: v.choice('hidden_act', HF_ACTIVATIONS, 'quick_gelu'),
  };
  const eos = hf.eos_token_id;
  const config = gitCaptionerConfigSchema.safeParse({
    vision,
    text: {
      vocabSize: r.int('vocab_size', 30522),
      maxPositions: r.int('max_position_embeddings', 1024),
      dim: r.int('hidden_size', 768),
      numHeads: r.int('num_attention_heads', 12),
      numLayers: r.int('num_hidden_layers', 6),
      mlpDim: r.int('intermediate_size', 3072),
      activation: r.choice('hidden_act', HF_ACTIVATIONS, 'gelu'),
      layerNormEps: r.number('layer_norm_eps', 1e-12),
      dropout: r.number('hidden_dropout_prob', 0.1),
      tieWordEmbeddings: hf.tie_word_embeddings === true,
    },
    numFrames: frames ?? 1,
    temporalEmbeddings: frames !== null,
    projectionEps: v.number('layer_norm_eps', 1e-5),
    bosTokenId: r.int('bos_token_id', 101),
    // transformers allows a list of EOS ids; GIT checkpoints have one ([SEP]).
    eosTokenId: Array.isArray(eos) ? new HfConfigReader({ eos: eos[0] }, file).int('eos') : r.int('eos_token_id', 102),
    padTokenId: r.int('pad_token_id', 0),
  });
  if (!config.success) {
    const issue = config.error.issues[0];
    throw new TesseraError(
      'E_PRETRAINED_CONFIG',
      `${file} describes a GIT model Tessera cannot build: ${issue?.path.join('.')}: ${issue?.message}`,
      {
        details: { path: file },
      },
    );
  }
  return config.data;
}

/** The name mapping `loadHfWeights` takes for a GitCaptioner (a tied head's `output.weight`, if saved, is the word embeddings). */
export function gitWeightMapping(model: GitCaptioner) {
  return {
    toHfName: gitToHfName,
    hfShape: gitHfShape,
    ignoreHf: [/\.position_ids$/, ...(model.config.text.tieWordEmbeddings ? [/^output\.weight$/] : [])],
  };
}

/** `model_type: git` (GitForCausalLM folders: microsoft/git-base-coco, git-base-vatex, ...) as a captioner. */
export const gitCaptionerType: PretrainedCaptionerType = {
  modelTypes: ['git'],
  toHfName: gitToHfName,
  hfShape: gitHfShape,
  async load(dir, hf, file) {
    const generation = path.join(dir, 'generation_config.json');
    const maxLength = (await exists(generation))
      ? new HfConfigReader(await readHfJson(generation, 'E_PRETRAINED_CONFIG', 'the generation settings'), generation).int('max_length', 20)
      : 20;
    const model = new GitCaptioner({ ...gitFromHfConfig(hf, file), maxNewTokens: Math.max(1, maxLength - 1) });
    try {
      await loadHfWeights(model, dir, gitWeightMapping(model));
    } catch (cause) {
      model.dispose();
      throw cause;
    }
    return model;
  },
};

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}
