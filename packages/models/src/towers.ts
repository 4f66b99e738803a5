import { type SeededRandom, TesseraError } from '@tessera/core';
import { Linear, TextEncoder, VisionEncoder } from '@tessera/transformer';
import type { Projection, TextTowerConfig, VisionTowerConfig } from './config.js';

/** A ViT from a model config's `vision` section. */
export function buildVisionTower(c: VisionTowerConfig, rng: SeededRandom): VisionEncoder {
  return new VisionEncoder({
    imageSize: c.imageSize,
    patchSize: c.patchSize,
    channels: c.channels,
    dim: c.dim,
    numHeads: c.numHeads,
    numLayers: c.numLayers,
    mlpDim: c.mlpDim,
    pooling: c.pooling,
    dropout: c.dropout,
    activation: c.activation,
    layerNormEps: c.layerNormEps,
    preNorm: c.preNorm,
    patchBias: c.patchBias,
    classToken: c.classToken,
    rng: rng.fork('vision'),
  });
}

/** A text Transformer from a model config's `text` section. */
export function buildTextTower(c: TextTowerConfig, rng: SeededRandom): TextEncoder {
  return new TextEncoder({
    vocabSize: c.vocabSize,
    maxPositions: c.maxPositions,
    dim: c.dim,
    numHeads: c.numHeads,
    numLayers: c.numLayers,
    mlpDim: c.mlpDim,
    causal: c.causal,
    pooling: c.pooling,
    eosTokenId: c.eosTokenId,
    dropout: c.dropout,
    activation: c.activation,
    layerNormEps: c.layerNormEps,
    rng: rng.fork('text'),
  });
}

/**
 * The projection of a tower's pooled output into the shared space, or null for 'none' (then
 * the pooled output is the embedding). Initialised as CLIP: normal with std fan_in^-0.5.
 */
export function buildProjection(kind: Projection, inFeatures: number, embedDim: number | undefined, rng: SeededRandom): Linear | null {
  if (kind === 'none') return null;
  if (embedDim === undefined) throw new TesseraError('E_CONFIG', `a '${kind}' projection needs embedDim`);
  return new Linear({ inFeatures, outFeatures: embedDim, bias: kind === 'linear_bias', init: 'normal', std: inFeatures ** -0.5, rng });
}
