import { TesseraError } from '@tessera/base';
import { loadSafetensors, type SafetensorsTensor, saveSafetensors } from './safetensors.js';
import { safetensorsToTensor, tensorToSafetensors } from './tensorIO.js';
import { tf } from './tf.js';

/** How a parameter registered with `addParameter` is treated by optimizers. */
export interface ParameterOptions {
  /** Updated by the optimizer (default true). */
  trainable?: boolean;
  /** Subject to weight decay (default: true for matrices, false for vectors and scalars). */
  decay?: boolean;
}

/** One registered parameter: its variable and how the optimizer treats it. */
export interface ParameterInfo {
  variable: tf.Variable;
  trainable: boolean;
  decay: boolean;
}

/**
 * A tree of named parameters, in the style of torch.nn.Module: parameters are tfjs Variables
 * registered under stable Hugging Face-style names (`encoder.layers.0.self_attn.q_proj.weight`),
 * so weights save to and load from safetensors files that other tools can read.
 *
 * Subclasses register parameters with `addParameter` and sub-modules with `addModule` in
 * their constructor, and define their own `forward`-like methods.
 */
export class Module {
  private readonly ownParameters = new Map<string, ParameterInfo>();
  private readonly children = new Map<string, Module>();
  /** Dropout and other train-only behaviour read this; `train()`/`eval()` set it recursively. */
  training = true;

  protected addParameter(name: string, initial: tf.Tensor, options: ParameterOptions = {}): tf.Variable {
    this.assertFreeName(name);
    const trainable = options.trainable ?? true;
    const variable = tf.variable(initial, trainable);
    initial.dispose();
    this.ownParameters.set(name, { variable, trainable, decay: options.decay ?? initial.rank >= 2 });
    return variable;
  }

  protected addModule<M extends Module>(name: string, module: M): M {
    this.assertFreeName(name);
    this.children.set(name, module);
    return module;
  }

  private assertFreeName(name: string): void {
    if (!/^[A-Za-z0-9_]+$/.test(name)) throw new TesseraError('E_INPUT', `parameter or module name "${name}" must be [A-Za-z0-9_]+`);
    if (this.ownParameters.has(name) || this.children.has(name)) {
      throw new TesseraError('E_INPUT', `"${name}" is already registered on ${this.constructor.name}`);
    }
  }

  /** Every parameter under this module, by dotted name, in registration order. */
  namedParameters(prefix = ''): Map<string, ParameterInfo> {
    const out = new Map<string, ParameterInfo>();
    for (const [name, info] of this.ownParameters) out.set(prefix + name, info);
    for (const [name, child] of this.children) {
      for (const [sub, info] of child.namedParameters(`${prefix}${name}.`)) out.set(sub, info);
    }
    return out;
  }

  /** This module (under `prefix` without its trailing dot) and every sub-module, by dotted name. */
  namedModules(prefix = ''): Map<string, Module> {
    const out = new Map<string, Module>([[prefix.replace(/\.$/, ''), this]]);
    for (const [name, child] of this.children) for (const [sub, m] of child.namedModules(`${prefix}${name}.`)) out.set(sub, m);
    return out;
  }

  /** The variables the optimizer updates (`trainable` parameters), in registration order. */
  trainableVariables(): tf.Variable[] {
    return [...this.namedParameters().values()].filter((p) => p.trainable).map((p) => p.variable);
  }

  /** Number of scalar weights, over all parameters or only the trainable ones. */
  parameterCount(trainableOnly = false): number {
    let n = 0;
    for (const p of this.namedParameters().values()) if (!trainableOnly || p.trainable) n += p.variable.size;
    return n;
  }

  /** Sets training mode (dropout on) on this module and all sub-modules; returns `this`. */
  train(mode = true): this {
    for (const m of this.namedModules().values()) m.training = mode;
    return this;
  }

  /** Sets inference mode (dropout off) recursively; same as `train(false)`. */
  eval(): this {
    return this.train(false);
  }

  /** A plain-text table: name, shape, count; then the total. */
  summary(): string {
    const rows = [...this.namedParameters()].map(([name, p]) => [name, `[${p.variable.shape.join(', ')}]`, String(p.variable.size)]);
    const widths = [0, 1, 2].map((i) =>
      Math.max(...rows.map((r) => (r[i] as string).length), ['parameter', 'shape', 'count'][i]?.length ?? 0),
    );
    const line = (r: string[]) => r.map((c, i) => (i === 2 ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number))).join('  ');
    return [
      line(['parameter', 'shape', 'count']),
      ...rows.map(line),
      `total: ${this.parameterCount().toLocaleString('en-US')} parameters (${this.parameterCount(true).toLocaleString('en-US')} trainable)`,
    ].join('\n');
  }

  /** Copies of every parameter's values, by name, ready for safetensors. */
  async stateDict(): Promise<Map<string, SafetensorsTensor>> {
    const out = new Map<string, SafetensorsTensor>();
    for (const [name, p] of this.namedParameters()) out.set(name, await tensorToSafetensors(p.variable));
    return out;
  }

  /**
   * Assigns parameters from named tensors. With `strict` (default), a missing, unexpected or
   * mis-shaped name is a TesseraError listing all of them; nothing is assigned then.
   */
  loadStateDict(state: Map<string, SafetensorsTensor>, options: { strict?: boolean } = {}): { missing: string[]; unexpected: string[] } {
    const params = this.namedParameters();
    const missing = [...params.keys()].filter((k) => !state.has(k));
    const unexpected = [...state.keys()].filter((k) => !params.has(k));
    const misshaped = [...params]
      .filter(([k, p]) => state.has(k) && (state.get(k) as SafetensorsTensor).shape.join() !== p.variable.shape.join())
      .map(([k, p]) => `${k}: expected [${p.variable.shape}], got [${(state.get(k) as SafetensorsTensor).shape}]`);
    if (misshaped.length > 0 || ((options.strict ?? true) && (missing.length > 0 || unexpected.length > 0))) {
      const parts = [
        misshaped.length ? `shape mismatch: ${misshaped.join('; ')}` : '',
        missing.length ? `missing: ${missing.join(', ')}` : '',
        unexpected.length ? `unexpected: ${unexpected.join(', ')}` : '',
      ].filter(Boolean);
      throw new TesseraError('E_STATE_DICT', `cannot load weights into ${this.constructor.name}: ${parts.join(' | ')}`, {
        details: { missing, unexpected, misshaped },
      });
    }
    for (const [name, p] of params) {
      const entry = state.get(name);
      if (!entry) continue;
      const value = safetensorsToTensor(entry);
      p.variable.assign(value.dtype === p.variable.dtype ? value : tf.cast(value, p.variable.dtype));
      value.dispose();
    }
    return { missing, unexpected };
  }

  /** Writes every parameter to a safetensors file at `path`, with string `metadata` in its header. */
  async save(path: string, metadata: Record<string, string> = {}): Promise<void> {
    await saveSafetensors(path, await this.stateDict(), metadata);
  }

  /** Reads a safetensors file and assigns its tensors by name; see `loadStateDict` for `strict`. */
  async load(path: string, options: { strict?: boolean } = {}): Promise<{ missing: string[]; unexpected: string[] }> {
    return this.loadStateDict((await loadSafetensors(path)).tensors, options);
  }

  /** Frees every parameter. The module is unusable afterwards. */
  dispose(): void {
    for (const p of this.namedParameters().values()) p.variable.dispose();
  }
}
