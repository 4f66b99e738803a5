import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { tf } from '../../tf.js';
import { heapBuffer, offsetOf, sizeOf } from './nativeHeap.js';
import { activeNativeAddon } from './nativeKernels.js';

/**
 * The hyperparameters of one `nativeAdamStep`, as torch.optim.AdamW's `lr`, `betas`
 * (`beta1`, `beta2`), `eps` and `weight_decay`, plus the step number.
 */
export interface AdamStepSettings {
  lr: number;
  beta1: number;
  beta2: number;
  /** Added to sqrt(vhat) in the denominator, as torch's `eps`. */
  eps: number;
  /** Decoupled weight decay of this variable (AdamW); 0 is plain Adam. */
  weightDecay: number;
  /** 1-based step number, for the bias corrections. */
  step: number;
}

/**
 * One AdamW step of `variable` in a single native kernel (instead of ~11 tfjs ops):
 * p <- p (1 - lr wd) - lr mhat / (sqrt(vhat) + eps), the moments `m` and `v` updated in place.
 * The variable gets a new buffer (assign), so caches keyed by tensor id stay valid.
 * Returns false and changes nothing when @tessera/native is not active on wasm or the tensors
 * do not qualify (not float32, or a moment buffer shared with another tensor); the caller then
 * runs the same update in tfjs ops.
 */
export function nativeAdamStep(variable: tf.Variable, grad: tf.Tensor, m: tf.Tensor, v: tf.Tensor, settings: AdamStepSettings): boolean {
  const addon = tf.getBackend() === 'wasm' ? activeNativeAddon() : null;
  if (addon === null || variable.dtype !== 'float32' || grad.dtype !== 'float32') return false;
  const backend = tf.backend() as BackendWasm;
  // m and v are written in place: nothing else may see their buffers.
  if (backend.refCount(m.dataId) !== 1 || backend.refCount(v.dataId) !== 1) return false;
  const { lr, beta1, beta2, eps, weightDecay, step } = settings;
  const out = backend.makeOutput(variable.shape, 'float32');
  const at = (t: { dataId: object }) => offsetOf(backend, t as never);
  addon.adam(
    heapBuffer(backend),
    at(variable),
    at(out),
    at(grad),
    at(m),
    at(v),
    sizeOf(variable.shape),
    lr,
    beta1,
    beta2,
    eps,
    weightDecay,
    1 - beta1 ** step,
    1 - beta2 ** step,
  );
  const next = tf.engine().makeTensorFromTensorInfo(out);
  variable.assign(next);
  next.dispose();
  return true;
}
