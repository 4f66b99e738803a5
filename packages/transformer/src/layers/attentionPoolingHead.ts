import { fusedLinear, Module, matMul, parseConfig, type SeededRandom, tf } from '@tessera/core';
import { z } from 'zod';
import { assertLastDim, assertRank } from '../checks.js';
import { initWeight, RngSchema } from '../init.js';
import { ACTIVATIONS } from './activations.js';
import { LayerNorm } from './layerNorm.js';
import { Linear } from './linear.js';
import { MLP } from './mlp.js';

export const AttentionPoolingHeadConfigSchema = z
  .object({
    dim: z.number().int().positive(),
    numHeads: z.number().int().positive(),
    /** Feed-forward width (default 4 x dim). */
    mlpDim: z.number().int().positive().optional(),
    activation: z.enum(ACTIVATIONS).default('gelu'),
    layerNormEps: z.number().positive().default(1e-5),
    rng: RngSchema,
  })
  .strict()
  .refine((c) => c.dim % c.numHeads === 0, { message: 'dim must be divisible by numHeads', path: ['numHeads'] });
/**
 * Config of AttentionPoolingHead: `dim`, `numHeads` (must divide dim) and `rng`; `mlpDim`
 * (default 4 x dim), `activation` (default gelu) and `layerNormEps` (1e-5). E_CONFIG when invalid.
 */
export type AttentionPoolingHeadConfig = z.input<typeof AttentionPoolingHeadConfigSchema>;

/**
 * torch.nn.MultiheadAttention's parameters as torch stores them: q, k and v projections packed
 * in `in_proj_weight` [3 dim, dim] / `in_proj_bias` [3 dim], then `out_proj`. Kept packed so
 * the names and shapes are SigLIP's own and loading stays a rename.
 */
class PackedAttention extends Module {
  readonly in_proj_weight: tf.Variable;
  readonly in_proj_bias: tf.Variable;
  readonly out_proj: Linear;

  constructor(dim: number, rng: SeededRandom) {
    super();
    this.in_proj_weight = this.addParameter('in_proj_weight', initWeight([3 * dim, dim], 'xavier_uniform', rng.fork('in_proj')));
    this.in_proj_bias = this.addParameter('in_proj_bias', tf.zeros([3 * dim]));
    this.out_proj = this.addModule('out_proj', new Linear({ inFeatures: dim, outFeatures: dim, rng: rng.fork('out_proj') }));
  }
}

/**
 * SigLIP's multihead attention pooling (MAP) head: one learned `probe` [1, 1, dim] attends to
 * all tokens, then a pre-LN MLP with a residual: out = a + mlp(layernorm(a)), a = attn(probe, x, x).
 * Names follow transformers' SiglipMultiheadAttentionPoolingHead: `probe`,
 * `attention.in_proj_weight`, `attention.in_proj_bias`, `attention.out_proj.*`, `layernorm.*`, `mlp.fc1/fc2.*`.
 */
export class AttentionPoolingHead extends Module {
  readonly dim: number;
  readonly numHeads: number;
  readonly probe: tf.Variable;
  readonly attention: PackedAttention;
  readonly layernorm: LayerNorm;
  readonly mlp: MLP;

  constructor(config: AttentionPoolingHeadConfig) {
    super();
    const c = parseConfig(AttentionPoolingHeadConfigSchema, config, 'AttentionPoolingHead config');
    this.dim = c.dim;
    this.numHeads = c.numHeads;
    this.probe = this.addParameter('probe', initWeight([1, 1, c.dim], 'normal', c.rng.fork('probe'), 1), { decay: false });
    this.attention = this.addModule('attention', new PackedAttention(c.dim, c.rng.fork('attention')));
    this.layernorm = this.addModule('layernorm', new LayerNorm({ dim: c.dim, eps: c.layerNormEps }));
    this.mlp = this.addModule(
      'mlp',
      new MLP({ dim: c.dim, hiddenDim: c.mlpDim ?? 4 * c.dim, activation: c.activation, rng: c.rng.fork('mlp') }),
    );
  }

  /** Token states [B, N, dim] -> pooled [B, dim]. */
  forward(hidden: tf.Tensor): tf.Tensor2D {
    assertRank(hidden, 3, 'AttentionPoolingHead', 'of token states [batch, tokens, dim]');
    assertLastDim(hidden, this.dim, 'AttentionPoolingHead');
    const [batch, tokens] = hidden.shape as [number, number, number];
    const d = this.dim;
    const h = this.numHeads;
    const hd = d / h;
    return tf.tidy(() => {
      const w = this.attention.in_proj_weight;
      const b = this.attention.in_proj_bias;
      // The query is the same for every image: project the probe once, [1, heads, 1, hd], pre-scaled.
      const q = fusedLinear(tf.reshape(this.probe, [1, d]), tf.slice(w, [0, 0], [d, d]), tf.slice(b, [0], [d]));
      const query = tf.reshape(tf.mul(q, 1 / Math.sqrt(hd)), [1, h, 1, hd]);
      // Keys and values in one product: [B, N, 2 dim].
      const kv = fusedLinear(hidden, tf.slice(w, [d, 0], [2 * d, d]), tf.slice(b, [d], [2 * d]));
      const keys = tf.transpose(tf.reshape(tf.slice(kv, [0, 0, 0], [batch, tokens, d]), [batch, tokens, h, hd]), [0, 2, 3, 1]);
      const values = tf.transpose(tf.reshape(tf.slice(kv, [0, 0, d], [batch, tokens, d]), [batch, tokens, h, hd]), [0, 2, 1, 3]);
      const weights = tf.softmax(matMul(tf.tile(query, [batch, 1, 1, 1]), keys), -1);
      const context = tf.reshape(matMul(weights, values), [batch, d]);
      const attended = this.attention.out_proj.forward(context);
      return tf.add(attended, this.mlp.forward(this.layernorm.forward(attended))) as tf.Tensor2D;
    });
  }
}
