import type { SeededRandom } from '@tessera/core';
import { TextEncoder, VisionEncoder } from '@tessera/transformer';
import type { TextTowerConfig, VisionTowerConfig } from './config.js';

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
    norm: c.norm,
    typeVocabSize: c.typeVocabSize,
    dropout: c.dropout,
    rng: rng.fork('text'),
  });
}
