import { type Module, TesseraError, tf } from '@tessera/core';

function pairParameters(online: Module, target: Module): [tf.Variable, tf.Variable][] {
  const from = online.namedParameters();
  const to = target.namedParameters();
  const problems: string[] = [];
  for (const name of from.keys()) if (!to.has(name)) problems.push(`missing in the copy: ${name}`);
  for (const name of to.keys()) if (!from.has(name)) problems.push(`not in the online module: ${name}`);
  const pairs: [tf.Variable, tf.Variable][] = [];
  for (const [name, p] of from) {
    const q = to.get(name);
    if (!q) continue;
    if (p.variable.shape.join() !== q.variable.shape.join()) {
      problems.push(`${name}: [${p.variable.shape.join(', ')}] vs [${q.variable.shape.join(', ')}]`);
    }
    pairs.push([p.variable, q.variable]);
  }
  if (problems.length > 0) {
    throw new TesseraError('E_INPUT', `momentum copy must have the online module's architecture: ${problems.join('; ')}`);
  }
  return pairs;
}

/**
 * A momentum (EMA) copy of a module, as the momentum encoders of MoCo/ALBEF: built by `makeCopy`
 * (same architecture), started equal to the online weights, frozen (not trainable), and moved by
 * `update()`: p_m <- m * p_m + (1 - m) * p_online, i.e. exactly (1 - m) of the way to the online weights.
 */
export class MomentumEncoder<M extends Module> {
  readonly online: M;
  readonly target: M;
  readonly momentum: number;
  private readonly pairs: [tf.Variable, tf.Variable][];

  constructor(online: M, makeCopy: () => M, momentum = 0.995) {
    if (!(momentum >= 0 && momentum <= 1)) throw new TesseraError('E_CONFIG', `momentum must be in [0, 1], got ${momentum}`);
    this.online = online;
    this.target = makeCopy();
    this.momentum = momentum;
    this.pairs = pairParameters(online, this.target);
    for (const [source, copy] of this.pairs) {
      copy.assign(source);
      // Keeps tf.variableGrads() and optimizers without a var list off the copy.
      copy.trainable = false;
    }
    this.target.eval();
  }

  /** One EMA step toward the online weights. */
  update(): void {
    const m = this.momentum;
    tf.tidy(() => {
      for (const [source, copy] of this.pairs) copy.assign(tf.add(tf.mul(copy, m), tf.mul(source, 1 - m)));
    });
  }

  /** Disposes the momentum copy (`target`); the online module is left to its owner. */
  dispose(): void {
    this.target.dispose();
  }
}
