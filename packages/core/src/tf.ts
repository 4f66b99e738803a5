/**
 * The one TensorFlow.js every Tessera package uses. Importing it through here guarantees the
 * gradient registry is loaded and that the backend is the one `initBackend` chose.
 *
 * tfjs-core registers no gradients by itself, and its ESM `register_all_gradients` module
 * does not load in plain Node (directory imports); the tfjs-layers Node bundle registers
 * them all in the shared global registry as a side effect of being loaded.
 */
import '@tensorflow/tfjs-layers';

export * as tf from '@tensorflow/tfjs-core';
