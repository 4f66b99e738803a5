import { fusedGelu, TesseraError, tf } from '@tessera/core';

/**
 * The activations Transformers use, as in torch:
 * - `gelu`: exact, x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)) (BERT, ViT);
 * - `gelu_tanh`: the tanh approximation (GPT-2, F.gelu(approximate='tanh'));
 * - `quick_gelu`: x * sigmoid(1.702 x) (OpenAI CLIP);
 * - `relu`.
 */
export const ACTIVATIONS = ['gelu', 'gelu_tanh', 'quick_gelu', 'relu'] as const;
/** An activation name (one of ACTIVATIONS), as layer configs take it in `activation`. */
export type Activation = (typeof ACTIVATIONS)[number];

/** GELU and its tanh form run as one native kernel each way with @tessera/native (plain tfjs ops otherwise). */
export function gelu(x: tf.Tensor): tf.Tensor {
  return fusedGelu(x);
}

/** GELU's tanh approximation, 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (GPT-2, F.gelu(approximate='tanh')). */
export function geluTanh(x: tf.Tensor): tf.Tensor {
  return fusedGelu(x, true);
}

/** x * sigmoid(1.702 x), OpenAI CLIP's QuickGELU (transformers' `quick_gelu`), in plain tfjs ops. */
export function quickGelu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(x, tf.sigmoid(tf.mul(x, 1.702))));
}

/** The elementwise function an activation name stands for; E_CONFIG for an unknown name. */
export function activation(name: Activation): (x: tf.Tensor) => tf.Tensor {
  switch (name) {
    case 'gelu':
      return gelu;
    case 'gelu_tanh':
      return geluTanh;
    case 'quick_gelu':
      return quickGelu;
    case 'relu':
      return (x) => tf.relu(x);
    default:
      throw new TesseraError('E_CONFIG', `unknown activation "${name as string}"; use one of ${ACTIVATIONS.join(', ')}`);
  }
}
