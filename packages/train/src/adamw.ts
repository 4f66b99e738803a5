import { nativeAdamStep, type ParameterInfo, type SafetensorsTensor, TesseraError, tensorToSafetensors, tf } from '@tessera/core';

/** AdamW hyper-parameters; names and defaults follow torch.optim.AdamW. */
export interface AdamWOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  /** Decoupled weight decay, applied only to parameters whose `decay` flag is set. */
  weightDecay?: number;
}

/** What `AdamW.state()` returns: the step count and both moments of every parameter. */
export interface AdamWState {
  step: number;
  /** `exp_avg.<name>` and `exp_avg_sq.<name>` for every trainable parameter (F32). */
  tensors: Map<string, SafetensorsTensor>;
}

interface Slot {
  variable: tf.Variable;
  decay: boolean;
  expAvg: tf.Variable;
  expAvgSq: tf.Variable;
}

/**
 * AdamW with decoupled weight decay (Loshchilov & Hutter), step for step the algorithm of
 * torch.optim.AdamW (amsgrad off): `p -= lr*wd*p`, then the bias-corrected Adam update. The
 * scalar bias corrections are computed in float64 as PyTorch does in Python. With @tessera/native
 * each parameter's update is one native kernel; otherwise tfjs ops.
 * Parameters with `decay: false` (norms, biases, embeddings, logit scale) get no decay;
 * non-trainable parameters are skipped.
 */
export class AdamW {
  readonly options: Required<AdamWOptions>;
  private readonly slots = new Map<string, Slot>();
  private stepCount = 0;
  private disposed = false;

  constructor(parameters: Map<string, ParameterInfo>, options: AdamWOptions = {}) {
    this.options = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, ...options };
    const [b1, b2] = this.options.betas;
    if (!(b1 >= 0 && b1 < 1 && b2 >= 0 && b2 < 1) || !(this.options.eps >= 0) || !(this.options.weightDecay >= 0)) {
      throw new TesseraError('E_CONFIG', `AdamW: betas must be in [0, 1), eps and weightDecay >= 0 (got ${JSON.stringify(this.options)})`);
    }
    for (const [name, info] of parameters) {
      if (!info.trainable) continue;
      this.slots.set(name, {
        variable: info.variable,
        decay: info.decay,
        expAvg: zerosVariable(info.variable),
        expAvgSq: zerosVariable(info.variable),
      });
    }
  }

  /** Optimizer steps taken so far. */
  get step(): number {
    return this.stepCount;
  }

  /** Names of the parameters this optimizer updates. */
  parameterNames(): string[] {
    return [...this.slots.keys()];
  }

  /**
   * One update from gradients by parameter name. A trainable parameter without a gradient is
   * left alone (as torch skips `p.grad is None`). Does not dispose `grads`.
   */
  apply(grads: Map<string, tf.Tensor>, lr = this.options.lr): void {
    this.assertLive();
    for (const name of grads.keys()) {
      if (!this.slots.has(name)) throw new TesseraError('E_INPUT', `AdamW: gradient for unknown or non-trainable parameter "${name}"`);
    }
    this.stepCount += 1;
    const [b1, b2] = this.options.betas;
    const biasCorrection1 = 1 - b1 ** this.stepCount;
    const biasCorrection2Sqrt = Math.sqrt(1 - b2 ** this.stepCount);
    const stepSize = lr / biasCorrection1;
    // One scalar tensor per constant per step, shared by all parameters (a JS number argument
    // would upload a fresh scalar in every op); made only when a parameter takes the tfjs path.
    let k: Record<'decay' | 'b1' | 'oneMinusB1' | 'b2' | 'oneMinusB2' | 'bc2Sqrt' | 'eps' | 'stepSize', tf.Scalar> | null = null;
    const constants = () =>
      (k ??= tf.tidy(() => ({
        decay: tf.scalar(1 - lr * this.options.weightDecay),
        b1: tf.scalar(b1),
        oneMinusB1: tf.scalar(1 - b1),
        b2: tf.scalar(b2),
        oneMinusB2: tf.scalar(1 - b2),
        bc2Sqrt: tf.scalar(biasCorrection2Sqrt),
        eps: tf.scalar(this.options.eps),
        stepSize: tf.scalar(stepSize),
      })));
    const settings = { lr, beta1: b1, beta2: b2, eps: this.options.eps, step: this.stepCount };
    for (const [name, slot] of this.slots) {
      const grad = grads.get(name);
      if (!grad) continue;
      const weightDecay = slot.decay ? this.options.weightDecay : 0;
      if (nativeAdamStep(slot.variable, grad, slot.expAvg, slot.expAvgSq, { ...settings, weightDecay })) continue;
      const k = constants();
      tf.tidy(() => {
        const param = weightDecay > 0 ? tf.mul(slot.variable, k.decay) : slot.variable;
        const expAvg = tf.add(tf.mul(slot.expAvg, k.b1), tf.mul(grad, k.oneMinusB1));
        const expAvgSq = tf.add(tf.mul(slot.expAvgSq, k.b2), tf.mul(tf.mul(grad, grad), k.oneMinusB2));
        const denom = tf.add(tf.div(tf.sqrt(expAvgSq), k.bc2Sqrt), k.eps);
        slot.variable.assign(tf.sub(param, tf.mul(tf.div(expAvg, denom), k.stepSize)));
        slot.expAvg.assign(expAvg);
        slot.expAvgSq.assign(expAvgSq);
      });
    }
    if (k) tf.dispose(Object.values(k));
  }

  /** A copy of the optimizer state for a checkpoint. */
  async state(): Promise<AdamWState> {
    this.assertLive();
    const tensors = new Map<string, SafetensorsTensor>();
    for (const [name, slot] of this.slots) {
      tensors.set(`exp_avg.${name}`, await tensorToSafetensors(slot.expAvg));
      tensors.set(`exp_avg_sq.${name}`, await tensorToSafetensors(slot.expAvgSq));
    }
    return { step: this.stepCount, tensors };
  }

  /** Restores `state()`; every parameter's moments must be present with the right shape. */
  loadState(state: AdamWState): void {
    this.assertLive();
    const problems: string[] = [];
    for (const [name, slot] of this.slots) {
      for (const key of [`exp_avg.${name}`, `exp_avg_sq.${name}`]) {
        const entry = state.tensors.get(key);
        if (!entry) problems.push(`missing ${key}`);
        else if (entry.shape.join() !== slot.variable.shape.join())
          problems.push(`${key}: expected [${slot.variable.shape}], got [${entry.shape}]`);
        else if (entry.dtype !== 'F32') problems.push(`${key}: expected F32, got ${entry.dtype}`);
      }
    }
    if (problems.length > 0) throw new TesseraError('E_CHECKPOINT', `optimizer state does not match the model: ${problems.join('; ')}`);
    for (const [name, slot] of this.slots) {
      for (const [key, target] of [
        [`exp_avg.${name}`, slot.expAvg],
        [`exp_avg_sq.${name}`, slot.expAvgSq],
      ] as const) {
        const entry = state.tensors.get(key) as SafetensorsTensor;
        const value = tf.tensor(entry.data as Float32Array, entry.shape, 'float32');
        target.assign(value);
        value.dispose();
      }
    }
    this.stepCount = state.step;
  }

  /** Frees both moments of every parameter (the parameters are the caller's); the optimizer is unusable afterwards. */
  dispose(): void {
    for (const slot of this.slots.values()) {
      slot.expAvg.dispose();
      slot.expAvgSq.dispose();
    }
    this.slots.clear();
    this.disposed = true;
  }

  private assertLive(): void {
    if (this.disposed) throw new TesseraError('E_INPUT', 'AdamW was disposed: make a new optimizer for these parameters');
  }
}

/** A zero moment the optimizer owns alone (refcount 1), so the native kernel may update it in place. */
function zerosVariable(like: tf.Tensor): tf.Variable {
  const zeros = tf.zerosLike(like);
  const variable = tf.variable(zeros, false);
  zeros.dispose();
  return variable;
}
