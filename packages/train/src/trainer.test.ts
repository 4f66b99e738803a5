import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { initBackend, tf } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ArraySource, type Batch, evalMse, mseLoss, type PairBatch, PairSource, TinyLinear, ToyClip } from '../test/helpers.js';
import { cachedFeatureGradients } from './cachedFeatures.js';
import { bestCheckpoint, latestCheckpoint, listCheckpoints, loadCheckpoint } from './checkpoint.js';
import type { TrainConfigInput } from './config.js';
import { MetricsLog } from './metricsLog.js';
import { Trainer, type TrainerOptions } from './trainer.js';
import type { LossFn } from './types.js';

const tempDir = () => mkdtemp(path.join(tmpdir(), 'tessera-train-'));

function setup(outputDir: string, overrides: Partial<TrainConfigInput> = {}, options: Partial<TrainerOptions<Batch>> = {}, initSeed = 1) {
  const model = new TinyLinear(3, 2, initSeed);
  const source = new ArraySource(24, 4);
  const config: TrainConfigInput = {
    lr: 0.05,
    steps: 12,
    batchSize: 4,
    accumulation: 2,
    warmupSteps: 3,
    clipGradNorm: 1,
    weightDecay: 0.1,
    checkpointEvery: 4,
    evalEvery: 4,
    lossWeights: { second: 0.5 },
    seed: 123,
    outputDir,
    ...overrides,
  };
  const trainer = new Trainer<Batch>({
    model,
    source,
    config,
    loss: mseLoss(model),
    evaluate: () => ({ mse: evalMse(model, source) }),
    progress: false,
    ...options,
  });
  return { model, source, trainer };
}

/** A loss that fails at `step`, as a crash would. */
function crashingAt(step: number, loss: LossFn<Batch>): LossFn<Batch> {
  return (batch, ctx) => {
    if (ctx.step === step) throw new Error('simulated crash');
    return loss(batch, ctx);
  };
}

describe('Trainer', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  it('trains: the loss falls, metrics go to JSONL, curves to SVG, and no tensor leaks', async () => {
    const dir = await tempDir();
    const { model, trainer } = setup(dir, { steps: 30, checkpointEvery: 0, lr: 0.1 });
    const before = tf.memory().numTensors;
    const result = await trainer.fit();
    expect(tf.memory().numTensors).toBe(before);
    expect(result.step).toBe(30);
    expect(result.stopReason).toBe('steps');
    expect(result.samples).toBe(30 * 2 * 4);
    expect(result.losses.at(-1)).toBeLessThan((result.losses[0] as number) / 3);
    const records = await new MetricsLog(result.metricsFile).read();
    const train = records.filter((r) => r.kind === 'train');
    expect(train.map((r) => r.step)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(train[0]).toMatchObject({ epoch: 0, samples: 8, lr: 0.1 / 3 });
    for (const key of ['loss', 'loss/first', 'loss/second', 'abs_error', 'grad_norm', 'samples_per_s'])
      expect(typeof train[0]?.[key]).toBe('number');
    // The loss is the weighted sum of the parts (lossWeights: second 0.5).
    expect(train[5]?.loss).toBeCloseTo((train[5]?.['loss/first'] as number) + 0.5 * (train[5]?.['loss/second'] as number), 5);
    expect(records.filter((r) => r.kind === 'eval').map((r) => r.step)).toEqual([4, 8, 12, 16, 20, 24, 28, 30]);
    expect(result.curveFiles.map((f) => path.basename(f))).toEqual(['loss.svg', 'eval.svg']);
    const svg = await readFile(path.join(dir, 'loss.svg'), 'utf8');
    expect(svg.match(/<polyline/g)).toHaveLength(3);
    expect(svg).toContain('>loss/second<');
    expect((await listCheckpoints(path.join(dir, 'checkpoints'))).map((c) => c.step)).toEqual([30]);
    model.dispose();
    trainer.dispose();
  });

  it('resumed after a crash, continues exactly as an uninterrupted run', async () => {
    const whole = setup(await tempDir());
    const reference = await whole.trainer.fit();
    expect(reference.losses).toHaveLength(12);

    const dir = await tempDir();
    const crashed = setup(dir, {}, {}, 1);
    const crashedLoss = crashingAt(6, mseLoss(crashed.model));
    const crashing = new Trainer<Batch>({ ...setupOptions(crashed), loss: crashedLoss });
    await expect(crashing.fit()).rejects.toThrow('simulated crash');
    expect((await listCheckpoints(path.join(dir, 'checkpoints'))).map((c) => c.step)).toEqual([4]);
    // metrics.jsonl holds steps 1..6 from the crashed run; resuming drops 5 and 6 and rewrites them.
    const resumed = setup(dir, {}, {}, 99); // different init: the weights must come from the checkpoint
    const result = await resumed.trainer.fit({ resume: true });
    expect(result.losses).toEqual(reference.losses.slice(4));
    expect(result.step).toBe(12);
    const records = await new MetricsLog(result.metricsFile).read();
    expect(records.filter((r) => r.kind === 'train').map((r) => r.loss)).toEqual(reference.losses);
    expect(records.filter((r) => r.kind === 'eval').map((r) => r.step)).toEqual([4, 8, 12]);
    expect(await resumed.model.weight.data()).toEqual(await whole.model.weight.data());
    for (const s of [whole, crashed, resumed]) {
      s.model.dispose();
      s.trainer.dispose();
    }
    crashing.optimizer.dispose();
  });

  it('stops on an abort signal with a checkpoint, and resumes exactly from it', async () => {
    const whole = setup(await tempDir(), { checkpointEvery: 0, evalEvery: 0 });
    const reference = await whole.trainer.fit();
    const dir = await tempDir();
    const controller = new AbortController();
    const first = setup(dir, { checkpointEvery: 0, evalEvery: 0 });
    const base = mseLoss(first.model);
    const aborting = new Trainer<Batch>({
      ...setupOptions(first),
      config: { ...first.trainer.config },
      loss: (b, ctx) => {
        if (ctx.step === 4) controller.abort();
        return base(b, ctx);
      },
    });
    const partial = await aborting.fit({ signal: controller.signal });
    expect(partial.stopReason).toBe('interrupted');
    expect(partial.step).toBe(5);
    expect(path.basename(partial.checkpoint)).toBe('step-00000005');
    const resumed = setup(dir, { checkpointEvery: 0, evalEvery: 0 }, {}, 42);
    const rest = await resumed.trainer.fit({ resume: partial.checkpoint });
    expect([...partial.losses, ...rest.losses]).toEqual(reference.losses);
    for (const s of [whole, first, resumed]) {
      s.model.dispose();
      s.trainer.dispose();
    }
    aborting.optimizer.dispose();
  });

  it('stops early when the monitored metric stops improving, keeping the last N and the best checkpoints', async () => {
    const dir = await tempDir();
    const values = [5, 3, 4, 3.5, 3.2, 1];
    let calls = 0;
    const { model, trainer } = setup(
      dir,
      { steps: 40, evalEvery: 2, checkpointEvery: 2, keepLast: 1, monitor: { metric: 'eval/score', mode: 'min', patience: 3 } },
      { evaluate: () => ({ score: values[calls++] as number }) },
    );
    const result = await trainer.fit();
    // Evaluations at steps 2, 4, 6, 8, 10: best 3 at step 4, then 4, 3.5, 3.2 are not better -> stop at step 10.
    expect(result.stopReason).toBe('early-stopping');
    expect(result.step).toBe(10);
    expect(result.best).toEqual({ metric: 'eval/score', value: 3, step: 4 });
    const root = path.join(dir, 'checkpoints');
    expect((await listCheckpoints(root)).map((c) => c.step)).toEqual([4, 10]);
    expect(await bestCheckpoint(root)).toBe(path.join(root, 'step-00000004'));
    expect(await latestCheckpoint(root)).toBe(path.join(root, 'step-00000010'));
    const best = await loadCheckpoint(path.join(root, 'step-00000004'));
    expect(best.state).toMatchObject({ step: 4, monitor: { best: 3, bestStep: 4, badEvals: 0 }, metrics: { 'eval/score': 3 } });
    expect(best.state.config).toMatchObject({ train: { lr: 0.05, keepLast: 1, schedule: 'cosine' } });
    expect([...best.model.keys()]).toEqual(['weight', 'bias']);
    expect([...best.optimizer.tensors.keys()]).toEqual(['exp_avg.weight', 'exp_avg_sq.weight', 'exp_avg.bias', 'exp_avg_sq.bias']);
    model.dispose();
    trainer.dispose();
  });

  it('with cached-feature accumulation, 3 micro-batches of 2 train a contrastive model as batches of 6 do', async () => {
    const config = { lr: 0.05, steps: 4, weightDecay: 0.1, clipGradNorm: 5, checkpointEvery: 0, seed: 1 };
    const big = new ToyClip();
    const bigTrainer = new Trainer<PairBatch>({
      model: big,
      source: new PairSource(12, 6),
      config: { ...config, batchSize: 6, outputDir: await tempDir() },
      loss: (b) => big.loss(big.features(b)),
      progress: false,
    });
    const small = new ToyClip();
    const smallTrainer = new Trainer<PairBatch>({
      model: small,
      source: new PairSource(12, 2),
      config: { ...config, batchSize: 2, accumulation: 3, outputDir: await tempDir() },
      gradients: cachedFeatureGradients<PairBatch>({ features: (b) => small.features(b), loss: (f) => small.loss(f) }),
      progress: false,
    });
    const a = await bigTrainer.fit();
    const b = await smallTrainer.fit();
    for (const [i, loss] of a.losses.entries()) expect(b.losses[i]).toBeCloseTo(loss, 5);
    for (const name of ['image_proj', 'text_proj', 'logit_scale']) {
      const x = await big.namedParameters().get(name)?.variable.data();
      const y = await small.namedParameters().get(name)?.variable.data();
      for (const [i, v] of (x as Float32Array).entries()) expect(Math.abs(v - (y as Float32Array)[i]!)).toBeLessThan(1e-5);
    }
    expect(b.samples).toBe(a.samples);
    for (const x of [big, small, bigTrainer.optimizer, smallTrainer.optimizer]) x.dispose();
  });

  it('runs whole epochs when the config gives epochs', async () => {
    let skipped = 0;
    const source = Object.assign(new ArraySource(24, 4), { stats: () => ({ skipped_corrupt: ++skipped }) });
    const { model, trainer } = setup(
      await tempDir(),
      { steps: undefined, epochs: 2, evalEvery: 0, checkpointEvery: 0 },
      { batchesPerEpoch: 6, source },
    );
    expect(trainer.totalSteps).toBe(6);
    const result = await trainer.fit();
    expect(result).toMatchObject({ step: 6, epoch: 2, stopReason: 'epochs', samples: 48 });
    // The source's counters are logged at each epoch end.
    const data = (await new MetricsLog(result.metricsFile).read()).filter((r) => r.kind === 'data');
    expect(data).toEqual([
      { kind: 'data', step: 3, epoch: 1, skipped_corrupt: 1 },
      { kind: 'data', step: 6, epoch: 2, skipped_corrupt: 2 },
    ]);
    model.dispose();
    trainer.dispose();
  });

  it('fails clearly: bad config at start, unknown monitor metric, diverging loss, empty data', async () => {
    const dir = await tempDir();
    expect(() => setup(dir, { lr: -1 })).toThrow(/lr: /);
    expect(() => setup(dir, { stpes: 3 } as Partial<TrainConfigInput>)).toThrow(/stpes/);
    expect(() => setup(dir, { steps: undefined, epochs: 1 })).toThrow(/batchesPerEpoch/);
    const m = setup(dir, { monitor: { metric: 'eval/acc' } });
    await expect(m.trainer.fit()).rejects.toThrow(/"eval\/acc" is not among the eval metrics: eval\/mse/);
    const nan = setup(dir, {}, { loss: () => ({ loss: tf.scalar(Number.NaN) }) });
    await expect(nan.trainer.fit()).rejects.toThrow(expect.objectContaining({ code: 'E_DIVERGED' }));
    const empty = setup(dir, {}, { source: { next: async () => null, state: () => 0, restore: () => undefined } });
    await expect(empty.trainer.fit()).rejects.toThrow(expect.objectContaining({ code: 'E_DATA' }));
    expect(() => setup(dir, { steps: undefined, epochs: 1, accumulation: 8 }, { batchesPerEpoch: 6 })).toThrow(/no full step/);
    // batchesPerEpoch overstated: the epoch (6 batches) ends before one step of 8 micro-batches.
    const short = setup(dir, { steps: undefined, epochs: 1, accumulation: 8, evalEvery: 0 }, { batchesPerEpoch: 100 });
    await expect(short.trainer.fit()).rejects.toThrow(/no training step ran/);
    expect(() => setup(dir, { monitor: { metric: 'eval/mse' }, evalEvery: 0 })).toThrow(/monitor needs evaluation/);
    for (const s of [m, nan, empty, short]) {
      s.model.dispose();
      s.trainer.dispose();
    }
    expect(await readdir(dir)).toContain('metrics.jsonl');
  });
});

function setupOptions(s: ReturnType<typeof setup>): TrainerOptions<Batch> {
  return {
    model: s.model,
    source: s.source,
    config: s.trainer.config,
    evaluate: () => ({ mse: evalMse(s.model, s.source) }),
    progress: false,
  };
}
