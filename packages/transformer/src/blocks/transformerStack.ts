import { Module, tf } from '@tessera/core';
import { z } from 'zod';
import { RngSchema } from '../init.js';
import { ACTIVATIONS } from '../layers/activations.js';
import { ModuleList } from '../moduleList.js';
import { type BlockCache, type BlockOptions, TransformerBlock, type TransformerBlockConfig } from './transformerBlock.js';

/**
 * The config fields every network built on a TransformerStack shares (spread into its schema);
 * each network adds its own `norm` and `init` defaults and its input-specific fields.
 */
export const STACK_CONFIG_FIELDS = {
  dim: z.number().int().positive(),
  numHeads: z.number().int().positive(),
  numLayers: z.number().int().positive(),
  /** Feed-forward width (default 4 x dim). */
  mlpDim: z.number().int().positive().optional(),
  activation: z.enum(ACTIVATIONS).default('gelu'),
  dropout: z.number().min(0).lt(1).default(0),
  attentionDropout: z.number().min(0).lt(1).default(0),
  layerNormEps: z.number().positive().default(1e-5),
  std: z.number().positive().default(0.02),
  rng: RngSchema,
};

/** The block settings a network passes on from its own (already parsed) config. */
export type BlockSettings = Pick<
  TransformerBlockConfig,
  'dim' | 'numHeads' | 'mlpDim' | 'norm' | 'activation' | 'dropout' | 'attentionDropout' | 'layerNormEps' | 'init' | 'std'
>;

/** Picks the block settings out of a network config, so every network builds its stack alike. */
export function blockSettings(c: BlockSettings): BlockSettings {
  const { dim, numHeads, mlpDim, norm, activation, dropout, attentionDropout, layerNormEps, init, std } = c;
  return { dim, numHeads, mlpDim, norm, activation, dropout, attentionDropout, layerNormEps, init, std };
}

/** What a stack of blocks caches: one entry per layer. */
export type StackCache = BlockCache[];

/**
 * `numLayers` TransformerBlocks applied in order, registered as `layers.0`, `layers.1`, ...
 * (Hugging Face `encoder.layers.N` when held under the name `encoder`).
 */
export class TransformerStack extends Module {
  readonly layers: TransformerBlock[];

  constructor(numLayers: number, block: TransformerBlockConfig) {
    super();
    const list = this.addModule(
      'layers',
      new ModuleList(Array.from({ length: numLayers }, (_, i) => new TransformerBlock({ ...block, rng: block.rng.fork(`layer${i}`) }))),
    );
    this.layers = list.items;
  }

  /**
   * Runs x [B, S, dim] through every block with the same options -> hidden [B, S, dim]; `past`
   * and the returned `present` (with `useCache`) hold one BlockCache per layer.
   */
  forward(x: tf.Tensor, options: Omit<BlockOptions, 'past'> & { past?: StackCache } = {}): { hidden: tf.Tensor; present?: StackCache } {
    return tf.tidy(() => {
      let hidden = x;
      const present: StackCache = [];
      this.layers.forEach((layer, i) => {
        const r = layer.forward(hidden, { ...options, past: options.past?.[i] });
        hidden = r.hidden;
        if (r.present) present.push(r.present);
      });
      return (options.useCache ? { hidden, present } : { hidden }) as unknown as tf.TensorContainer;
    }) as unknown as { hidden: tf.Tensor; present?: StackCache };
  }
}
