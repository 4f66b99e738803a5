import { initBackend, SeededRandom, tf } from '@tessera/core';
import { Linear } from '@tessera/transformer';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose, expectCode, Reference } from '../test/reference.js';
import { DistillationLoss, embeddingDistillationLoss, logitDistillationLoss } from './distillation.js';

let ref: Reference;
beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  ref = await Reference.load();
});

describe('distillation losses against PyTorch', () => {
  it('softened-logit KL (T = 2) over [3, 4, 10] logits, and its gradient', () => {
    const [s, t] = [ref.tensor('distill.in.student'), ref.tensor('distill.in.teacher')];
    const f = (x: tf.Tensor) => logitDistillationLoss(x, t, 2);
    expectClose(f(s), ref, 'distill.kd');
    expectClose(tf.grad(f)(s), ref, 'distill.grad.kd.student');
    // The teacher is a fixed target.
    const gt = tf.grad((x: tf.Tensor) => logitDistillationLoss(s, x, 2))(t);
    expect(tf.max(tf.abs(gt)).dataSync()[0]).toBe(0);
  });

  for (const kind of ['mse', 'cosine'] as const) {
    it(`embedding ${kind} and its gradient`, () => {
      const [s, t] = [ref.tensor('distill.in.student_embed'), ref.tensor('distill.in.teacher_embed')];
      const f = (x: tf.Tensor) => embeddingDistillationLoss(x, t, kind);
      expectClose(f(s), ref, `distill.${kind}`);
      expectClose(tf.grad(f)(s), ref, `distill.grad.${kind}.student_embed`);
    });
  }
});

/** A two-layer network: Linear -> relu -> Linear. */
class Net {
  readonly fc1: Linear;
  readonly fc2: Linear;
  constructor(inFeatures: number, hidden: number, classes: number, rng: SeededRandom) {
    this.fc1 = new Linear({ inFeatures, outFeatures: hidden, rng: rng.fork('fc1') });
    this.fc2 = new Linear({ inFeatures: hidden, outFeatures: classes, rng: rng.fork('fc2') });
  }
  forward(x: tf.Tensor): { hidden: tf.Tensor; logits: tf.Tensor } {
    const hidden = tf.relu(this.fc1.forward(x));
    return { hidden, logits: this.fc2.forward(hidden) };
  }
  variables(): tf.Variable[] {
    return [...this.fc1.trainableVariables(), ...this.fc2.trainableVariables()];
  }
}

describe('distilling a bigger teacher into a smaller student', () => {
  it('lowers the student distillation loss by more than half in 60 Adam steps', () => {
    const rng = new SeededRandom(21);
    const teacher = new Net(16, 128, 10, rng.fork('teacher'));
    const student = new Net(16, 8, 10, rng.fork('student'));
    // The teacher's 128-wide hidden layer is matched through a learned projection from the student's 8.
    const projection = new Linear({ inFeatures: 8, outFeatures: 128, rng: rng.fork('proj') });
    const objective = new DistillationLoss({ temperature: 2, logitWeight: 1, embeddingWeight: 0.5, embeddingLoss: 'cosine' });
    const x = tf.tensor2d(
      rng.array(64 * 16, (r) => r.normal() * 3),
      [64, 16],
    );
    const targets = tf.tidy(() => {
      const out = teacher.forward(x);
      return { logits: tf.keep(out.logits), hidden: tf.keep(out.hidden) };
    });
    const optimizer = tf.train.adam(0.02);
    const varList = [...student.variables(), ...projection.trainableVariables()];
    const step = () =>
      tf.tidy(() => {
        const cost = optimizer.minimize(
          () => {
            const out = student.forward(x);
            return objective.forward({
              studentLogits: out.logits,
              teacherLogits: targets.logits,
              studentEmbeds: projection.forward(out.hidden),
              teacherEmbeds: targets.hidden,
            }).loss;
          },
          true,
          varList,
        ) as tf.Scalar;
        return cost.dataSync()[0] as number;
      });
    const first = step();
    for (let i = 0; i < 58; i++) step();
    const before = tf.memory().numTensors;
    const last = step();
    expect(tf.memory().numTensors).toBe(before);
    expect(first).toBeGreaterThan(0.1);
    expect(last).toBeLessThan(first * 0.5);
    expect(teacher.fc1.parameterCount()).toBeGreaterThan(10 * student.fc1.parameterCount());
    optimizer.dispose();
    tf.dispose([x, targets.logits, targets.hidden]);
  });

  it('DistillationLoss asks for the inputs its weights need', () => {
    const loss = new DistillationLoss({ embeddingWeight: 1 });
    const a = tf.zeros([2, 3]);
    expectCode(() => loss.forward({ studentLogits: a, teacherLogits: a }), 'E_INPUT');
    expectCode(() => new DistillationLoss({ temperature: 0 }), 'E_CONFIG');
    expectCode(() => logitDistillationLoss(a, tf.zeros([2, 4]), 2), 'E_INPUT');
  });
});
