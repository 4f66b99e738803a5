import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { z } from 'zod';
import { parseConfig } from '../../config.js';
import { tf } from '../../tf.js';
import { heapBuffer, offsetOf, sizeOf } from './nativeHeap.js';
import { activeNativeAddon } from './nativeKernels.js';

export const FusedAdamOptionsSchema = z
  .object({
    learningRate: z.number().positive(),
    beta1: z.number().min(0).lt(1).default(0.9),
    beta2: z.number().min(0).lt(1).default(0.999),
    epsilon: z.number().positive().default(1e-8),
    /** Decoupled weight decay (AdamW); 0 is plain Adam. */
    weightDecay: z.number().min(0).default(0),
  })
  .strict();
export type FusedAdamOptions = z.input<typeof FusedAdamOptionsSchema>;

/**
 * Adam / AdamW (torch.optim.AdamW's rule: p -= lr * (mhat / (sqrt(vhat) + eps) + decay * p))
 * in one native kernel per variable when @tessera/native is active on wasm, instead of ~11
 * tfjs ops; plain tfjs ops elsewhere. Moments live in the optimizer and are updated in place;
 * each variable gets a new buffer (assign), so caches keyed by tensor id stay valid.
 */
export class FusedAdam {
  readonly options: z.output<typeof FusedAdamOptionsSchema>;
  private readonly moments = new Map<tf.Variable, { m: tf.Tensor; v: tf.Tensor }>();
  private step = 0;

  constructor(options: FusedAdamOptions) {
    this.options = parseConfig(FusedAdamOptionsSchema, options, 'FusedAdam options');
  }

  /** Minimizes `loss` over `variables` (default: all trainable ones); returns the loss value. */
  minimize(loss: () => tf.Scalar, variables?: tf.Variable[]): number {
    const { value, grads } = tf.variableGrads(loss, variables);
    const result = value.dataSync()[0] as number;
    const list = variables ?? Object.keys(grads).map((name) => tf.engine().registeredVariables[name] as tf.Variable);
    this.applyGradients(list.map((variable) => ({ variable, grad: grads[variable.name] as tf.Tensor })));
    tf.dispose([value, ...Object.values(grads)]);
    return result;
  }

  /** One step for each (variable, gradient) pair. */
  applyGradients(pairs: Array<{ variable: tf.Variable; grad: tf.Tensor }>): void {
    this.step += 1;
    const { learningRate: lr, beta1, beta2, epsilon, weightDecay } = this.options;
    const [c1, c2] = [1 - beta1 ** this.step, 1 - beta2 ** this.step];
    const addon = tf.getBackend() === 'wasm' ? activeNativeAddon() : null;
    for (const { variable, grad } of pairs) {
      let state = this.moments.get(variable);
      if (!state) {
        state = { m: tf.keep(tf.zerosLike(variable)), v: tf.keep(tf.zerosLike(variable)) };
        this.moments.set(variable, state);
      }
      const { m, v } = state;
      const backend = tf.backend() as BackendWasm;
      const own = (t: tf.Tensor) => backend.refCount(t.dataId) === 1;
      if (addon && variable.dtype === 'float32' && grad.dtype === 'float32' && own(m) && own(v)) {
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
          epsilon,
          weightDecay,
          c1,
          c2,
        );
        const next = tf.engine().makeTensorFromTensorInfo(out);
        variable.assign(next);
        next.dispose();
        continue;
      }
      tf.tidy(() => {
        const mNew = tf.add(tf.mul(m, beta1), tf.mul(grad, 1 - beta1));
        const vNew = tf.add(tf.mul(v, beta2), tf.mul(tf.square(grad), 1 - beta2));
        const update = tf.add(tf.div(tf.div(mNew, c1), tf.add(tf.sqrt(tf.div(vNew, c2)), epsilon)), tf.mul(variable, weightDecay));
        variable.assign(tf.sub(variable, tf.mul(update, lr)));
        tf.dispose([m, v]);
        state.m = tf.keep(mNew);
        state.v = tf.keep(vNew);
      });
    }
  }

  dispose(): void {
    for (const { m, v } of this.moments.values()) tf.dispose([m, v]);
    this.moments.clear();
  }
}
