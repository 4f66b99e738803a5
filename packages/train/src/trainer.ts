import path from 'node:path';
import { createLogger, type Logger, type Module, type Progress, progress, SeededRandom, TesseraError, tf } from '@tessera/core';
import { AdamW } from './adamw.js';
import {
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  latestCheckpoint,
  loadCheckpoint,
  markBest,
  pruneCheckpoints,
  type SaveHook,
  saveCheckpoint,
  type TrainingState,
} from './checkpoint.js';
import { clipGradNorm } from './clipping.js';
import { parseTrainConfig, type TrainConfig, type TrainConfigInput } from './config.js';
import { meanGradients } from './gradients.js';
import { renderMetricsCurves } from './metricsCurves.js';
import { MetricsLog } from './metricsLog.js';
import { type LrSchedule, makeSchedule } from './schedules.js';
import type { BatchSource, GradientFn, LossFn, StepContext } from './types.js';

/** What an evaluation function is given; it returns metrics by name (logged as `eval/<name>`). */
export interface EvalContext {
  step: number;
  model: Module;
  /** A fresh stream per evaluation, independent of training randomness. */
  rng: SeededRandom;
}

/**
 * Evaluates the model (switched to eval mode for the call) and returns metrics by name, logged as
 * `eval/<name>`; runs every `train.evalEvery` steps and at the last step.
 */
export type EvalFn = (ctx: EvalContext) => Promise<Record<string, number>> | Record<string, number>;

/** What a `Trainer` trains and how; give exactly one of `loss` and `gradients` (else E_INPUT). */
export interface TrainerOptions<B> {
  /** The module to train; its trainable parameters go to AdamW. */
  model: Module;
  /** The `train` section (validated here; a bad field is an E_CONFIG error naming it). */
  config: TrainConfigInput | TrainConfig;
  /** Where micro-batches come from; its `state()` is saved in every checkpoint. */
  source: BatchSource<B>;
  /** The loss of one micro-batch; micro-batch gradients are averaged. Give this or `gradients`. */
  loss?: LossFn<B>;
  /** Custom gradient computation over a step's micro-batches (e.g. `cachedFeatureGradients`). */
  gradients?: GradientFn<B>;
  /** Evaluation, needed for `train.evalEvery` and `train.monitor`. */
  evaluate?: EvalFn;
  /** Micro-batches per epoch; needed when the config gives `epochs` but no `steps`. */
  batchesPerEpoch?: number;
  /** Examples in a batch (default: config.batchSize), for samples/s. */
  batchSize?: (batch: B) => number;
  /** The whole resolved run config to store in checkpoints (default: `{ train: config }`). */
  runConfig?: unknown;
  /** Show a progress bar / progress lines on stderr (default true). */
  progress?: boolean;
  /** Called at stages of every checkpoint save (tests use it to interrupt a save). */
  onSave?: SaveHook;
  /** Where info and warnings go (default: a `train` logger). */
  logger?: Logger;
}

/** Options of one `Trainer.fit` call. */
export interface FitOptions {
  /** true: continue from the newest checkpoint in outputDir if there is one; a path: from that checkpoint. */
  resume?: boolean | string;
  /** Aborting stops after the current step, with a checkpoint (stopReason 'interrupted'). */
  signal?: AbortSignal;
}

/** What `Trainer.fit` returns: where and why the run stopped, its losses, evaluations and files. */
export interface TrainResult {
  /** Optimizer steps completed. */
  step: number;
  /** Epochs completed (ends of epoch the source signalled). */
  epoch: number;
  /** Examples consumed, including those of the run resumed from. */
  samples: number;
  /** `steps` or `epochs` reached, `early-stopping` (monitor patience ran out) or `interrupted` (the abort signal). */
  stopReason: 'steps' | 'epochs' | 'early-stopping' | 'interrupted';
  /** Training loss of every step run by this call, in order. */
  losses: number[];
  /** The last evaluation's metrics (`eval/<name>`), if any. */
  lastEval: Record<string, number>;
  /** The best value of `train.monitor.metric` and its step; null without a monitor. */
  best: { metric: string; value: number; step: number } | null;
  /** The final checkpoint's directory. */
  checkpoint: string;
  /** The path of metrics.jsonl (the curve images are in `curveFiles`). */
  metricsFile: string;
  /** SVG curves written to outputDir: loss.svg, and eval.svg when evaluation gives other metrics. */
  curveFiles: string[];
}

/**
 * Trains a Module: micro-batches from a BatchSource, gradients (averaged or custom), global-norm
 * clipping, AdamW under an LR schedule; metrics to `<outputDir>/metrics.jsonl` and curves to
 * SVG; evaluation every N steps with best tracking and early stopping; atomic checkpoints
 * under `<outputDir>/checkpoints` from which `fit({ resume: true })` continues exactly.
 */
export class Trainer<B> {
  readonly config: TrainConfig;
  readonly optimizer: AdamW;
  readonly schedule: LrSchedule;
  readonly totalSteps: number;
  readonly checkpointDir: string;
  readonly metrics: MetricsLog;
  private readonly options: TrainerOptions<B>;
  private readonly gradientFn: GradientFn<B>;
  private readonly parameters: Map<string, tf.Variable>;
  private readonly log: Logger;

  constructor(options: TrainerOptions<B>) {
    this.options = options;
    this.config = parseTrainConfig(options.config);
    const c = this.config;
    if (!options.loss === !options.gradients) throw new TesseraError('E_INPUT', 'Trainer: give exactly one of `loss` and `gradients`');
    if (c.steps === undefined && !options.batchesPerEpoch) {
      throw new TesseraError('E_CONFIG', 'train.epochs needs the number of batches per epoch (option batchesPerEpoch); or set train.steps');
    }
    this.totalSteps = c.steps ?? Math.floor(((c.epochs as number) * (options.batchesPerEpoch as number)) / c.accumulation);
    if (c.monitor && !(options.evaluate && c.evalEvery > 0)) {
      throw new TesseraError('E_CONFIG', 'train.monitor needs evaluation: set train.evalEvery and pass an evaluate function');
    }
    if (this.totalSteps < 1)
      throw new TesseraError('E_CONFIG', `train.epochs x batchesPerEpoch gives no full step with accumulation ${c.accumulation}`);
    this.gradientFn = options.gradients ?? meanGradients(options.loss as LossFn<B>, c.lossWeights);
    const named = options.model.namedParameters();
    this.parameters = new Map([...named].filter(([, p]) => p.trainable).map(([n, p]) => [n, p.variable]));
    this.optimizer = new AdamW(named, { lr: c.lr, betas: c.betas, eps: c.eps, weightDecay: c.weightDecay });
    this.schedule = makeSchedule(c.schedule, { lr: c.lr, totalSteps: this.totalSteps, warmupSteps: c.warmupSteps, minLr: c.minLr });
    this.checkpointDir = path.join(c.outputDir, 'checkpoints');
    this.metrics = new MetricsLog(path.join(c.outputDir, 'metrics.jsonl'));
    this.log = options.logger ?? createLogger('train');
  }

  /**
   * Trains until `train.steps`, the end of `train.epochs`, early stopping or the abort signal,
   * then saves a final checkpoint. A resume restores model, optimizer, random stream and data
   * position and drops metrics logged after the checkpoint's step, so the run continues exactly.
   * A non-finite loss is E_DIVERGED; a source that yields no batches is E_DATA.
   */
  async fit(fitOptions: FitOptions = {}): Promise<TrainResult> {
    const c = this.config;
    const { model, source } = this.options;
    const rng = new SeededRandom(c.seed);
    let state: Omit<TrainingState, 'rng' | 'data'> = {
      format: CHECKPOINT_FORMAT,
      version: CHECKPOINT_VERSION,
      step: 0,
      epoch: 0,
      samples: 0,
      config: this.options.runConfig ?? { train: c },
      monitor: { metric: c.monitor?.metric ?? null, best: null, bestStep: null, badEvals: 0 },
      metrics: {},
      elapsedSeconds: 0,
    };
    const resumeFrom = fitOptions.resume === true ? await latestCheckpoint(this.checkpointDir) : fitOptions.resume || null;
    if (resumeFrom) {
      const ckpt = await loadCheckpoint(resumeFrom);
      model.loadStateDict(ckpt.model);
      this.optimizer.loadState(ckpt.optimizer);
      rng.setState(ckpt.state.rng);
      source.restore(ckpt.state.data);
      if (JSON.stringify(ckpt.state.config) !== JSON.stringify(state.config)) {
        this.log.warn(
          `the config differs from the one ${resumeFrom} was trained with: the resumed run will not match an uninterrupted one`,
        );
      }
      state = { ...ckpt.state, config: state.config };
      await this.metrics.truncateAfter(state.step);
      this.log.info(`resumed from ${resumeFrom} at step ${state.step}`);
    } else {
      if (fitOptions.resume === true) this.log.info(`no checkpoint in ${this.checkpointDir}: starting from step 0`);
      await this.metrics.truncateAfter(-1);
    }

    const bar: Progress | null =
      this.options.progress === false ? null : progress({ label: 'train', total: this.totalSteps - state.step, unit: 'step' });
    const losses: number[] = [];
    let lastEval: Record<string, number> = {};
    let lastSaved = -1;
    let stopReason: TrainResult['stopReason'] = c.steps === undefined ? 'epochs' : 'steps';
    let windowStart = performance.now();
    let windowSamples = 0;
    const runStart = performance.now() - state.elapsedSeconds * 1000;
    model.train();

    const save = async () => {
      const full: TrainingState = {
        ...state,
        rng: rng.state(),
        data: source.state(),
        elapsedSeconds: (performance.now() - runStart) / 1000,
      };
      const dir = await saveCheckpoint(
        this.checkpointDir,
        { model: await model.stateDict(), optimizer: await this.optimizer.state(), state: full },
        this.options.onSave,
      );
      if (state.monitor.bestStep === state.step && state.monitor.metric && state.monitor.best !== null) {
        await markBest(this.checkpointDir, { step: state.step, metric: state.monitor.metric, value: state.monitor.best });
      }
      await pruneCheckpoints(this.checkpointDir, c.keepLast);
      lastSaved = state.step;
      return dir;
    };

    // With `steps` the run ends there; with only `epochs` it ends at the source's last epoch end.
    while (c.steps === undefined || state.step < c.steps) {
      const micro: B[] = [];
      let epochsDone = false;
      let lastWasNull = false;
      while (micro.length < c.accumulation) {
        const batch = await source.next();
        if (batch !== null) {
          micro.push(batch);
          lastWasNull = false;
          continue;
        }
        if (lastWasNull)
          throw new TesseraError('E_DATA', 'the batch source gave an epoch without any batch: check the dataset path and split');
        lastWasNull = true;
        state.epoch += 1;
        if (source.stats) await this.metrics.append({ kind: 'data', step: state.step, epoch: state.epoch, ...source.stats() });
        if (c.steps === undefined && c.epochs !== undefined && state.epoch >= c.epochs) {
          epochsDone = true;
          break;
        }
      }
      if (epochsDone) break;

      const lr = this.schedule(state.step);
      const ctx: StepContext = { training: true, step: state.step, rng };
      const result = await this.gradientFn(micro, ctx, this.parameters);
      let grads = result.grads;
      let gradNorm: number | undefined;
      if (c.clipGradNorm !== null) {
        const clipped = clipGradNorm(grads, c.clipGradNorm);
        tf.dispose([...grads.values()]);
        grads = clipped.grads;
        gradNorm = clipped.norm;
      }
      if (!Number.isFinite(result.loss)) {
        tf.dispose([...grads.values()]);
        throw new TesseraError(
          'E_DIVERGED',
          `loss is ${result.loss} at step ${state.step}: lower train.lr, add train.warmupSteps or set train.clipGradNorm`,
          {
            details: { step: state.step },
          },
        );
      }
      this.optimizer.apply(grads, lr);
      tf.dispose([...grads.values()]);
      const stepSamples = micro.reduce((s, b) => s + (this.options.batchSize ? this.options.batchSize(b) : c.batchSize), 0);
      state.step += 1;
      state.samples += stepSamples;
      windowSamples += stepSamples;
      losses.push(result.loss);

      const now = performance.now();
      const samplesPerSecond = windowSamples / Math.max(1e-9, (now - windowStart) / 1000);
      bar?.tick(1, { loss: result.loss, lr, 'samples/s': Math.round(samplesPerSecond * 10) / 10 });
      if (state.step % c.logEvery === 0 || state.step === this.totalSteps) {
        await this.metrics.append({
          kind: 'train',
          step: state.step,
          epoch: state.epoch,
          samples: state.samples,
          lr,
          loss: result.loss,
          ...Object.fromEntries(Object.entries(result.parts).map(([k, v]) => [`loss/${k}`, v])),
          ...result.metrics,
          ...(gradNorm === undefined ? {} : { grad_norm: gradNorm }),
          samples_per_s: samplesPerSecond,
          time_s: (now - runStart) / 1000,
        });
        windowStart = now;
        windowSamples = 0;
      }

      let improved = false;
      let stopEarly = false;
      if (this.options.evaluate && c.evalEvery > 0 && (state.step % c.evalEvery === 0 || state.step === this.totalSteps)) {
        lastEval = await this.runEval(state.step);
        state.metrics = lastEval;
        await this.metrics.append({ kind: 'eval', step: state.step, epoch: state.epoch, ...lastEval });
        ({ improved, stopEarly } = this.updateMonitor(state, lastEval));
      }
      if (improved || (c.checkpointEvery > 0 && state.step % c.checkpointEvery === 0)) await save();
      if (stopEarly) {
        stopReason = 'early-stopping';
        this.log.info(`early stopping at step ${state.step}: ${c.monitor?.metric} did not improve for ${c.monitor?.patience} evaluations`);
        break;
      }
      if (fitOptions.signal?.aborted) {
        stopReason = 'interrupted';
        this.log.info(`interrupted at step ${state.step}; continue with resume`);
        break;
      }
    }
    bar?.stop();
    if (state.step === 0) throw new TesseraError('E_DATA', 'no training step ran: the batch source gave fewer batches than one step needs');
    const checkpoint =
      lastSaved === state.step ? path.join(this.checkpointDir, `step-${String(state.step).padStart(8, '0')}`) : await save();
    const curveFiles = await renderMetricsCurves(await this.metrics.read(), c.outputDir);
    const { monitor } = state;
    return {
      step: state.step,
      epoch: state.epoch,
      samples: state.samples,
      stopReason,
      losses,
      lastEval,
      best:
        monitor.metric && monitor.best !== null && monitor.bestStep !== null
          ? { metric: monitor.metric, value: monitor.best, step: monitor.bestStep }
          : null,
      checkpoint,
      metricsFile: this.metrics.file,
      curveFiles,
    };
  }

  /** Frees the optimizer's moment tensors (the model is the caller's). */
  dispose(): void {
    this.optimizer.dispose();
  }

  private async runEval(step: number): Promise<Record<string, number>> {
    const { model, evaluate } = this.options;
    model.eval();
    try {
      const raw = await (evaluate as EvalFn)({ step, model, rng: new SeededRandom(this.config.seed).fork(`eval-${step}`) });
      return Object.fromEntries(Object.entries(raw).map(([k, v]) => [`eval/${k}`, v]));
    } finally {
      model.train();
    }
  }

  private updateMonitor(
    state: Omit<TrainingState, 'rng' | 'data'>,
    metrics: Record<string, number>,
  ): { improved: boolean; stopEarly: boolean } {
    const m = this.config.monitor;
    if (!m) return { improved: false, stopEarly: false };
    const value = metrics[m.metric];
    if (value === undefined || !Number.isFinite(value)) {
      throw new TesseraError(
        'E_CONFIG',
        `train.monitor.metric "${m.metric}" is not among the eval metrics: ${Object.keys(metrics).join(', ') || '(none)'}`,
      );
    }
    const best = state.monitor.best;
    const improved = best === null || (m.mode === 'min' ? value < best - m.minDelta : value > best + m.minDelta);
    if (improved) state.monitor = { ...state.monitor, best: value, bestStep: state.step, badEvals: 0 };
    else state.monitor = { ...state.monitor, badEvals: state.monitor.badEvals + 1 };
    return { improved, stopEarly: m.patience !== undefined && state.monitor.badEvals >= m.patience };
  }
}
