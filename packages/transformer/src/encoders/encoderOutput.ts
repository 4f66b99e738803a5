import type { tf } from '@tessera/core';

/** What every encoder returns. */
export interface EncoderOutput {
  /** Token states [B, tokens, dim] after the final LayerNorm (pre-LN) or last block (post-LN). */
  hidden: tf.Tensor;
  /** One vector per input [B, dim], by the encoder's pooling. */
  pooled: tf.Tensor;
  /** [B, tokens] 1 for real tokens: the key-padding mask to use when attending to `hidden`. */
  mask?: tf.Tensor;
}
