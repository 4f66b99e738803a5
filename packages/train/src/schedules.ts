import { TesseraError } from '@tessera/core';

/** A learning-rate schedule: a pure function of the 0-based optimizer step. */
export type LrSchedule = (step: number) => number;

/** What a learning-rate schedule needs: lr > 0, minLr >= 0, integer totalSteps >= 1 and warmupSteps >= 0 (else E_CONFIG). */
export interface ScheduleOptions {
  /** Peak learning rate, reached at the end of warmup. */
  lr: number;
  /** Total optimizer steps of the run (the schedule's horizon). */
  totalSteps: number;
  /** Linear warmup steps: step s < warmup gets lr * (s + 1) / warmup, as open_clip's `_warmup_lr`. */
  warmupSteps?: number;
  /** Floor that cosine and linear decay end at (default 0). */
  minLr?: number;
}

function check(options: ScheduleOptions): Required<ScheduleOptions> {
  const o = { warmupSteps: 0, minLr: 0, ...options };
  if (
    !(o.lr > 0) ||
    !(o.minLr >= 0) ||
    !Number.isInteger(o.totalSteps) ||
    o.totalSteps < 1 ||
    !Number.isInteger(o.warmupSteps) ||
    o.warmupSteps < 0
  ) {
    throw new TesseraError(
      'E_CONFIG',
      `schedule needs lr > 0, minLr >= 0, integer totalSteps >= 1 and warmupSteps >= 0 (got ${JSON.stringify(options)})`,
    );
  }
  return o;
}

function warmup(o: Required<ScheduleOptions>, step: number): number | null {
  return step < o.warmupSteps ? (o.lr * (step + 1)) / o.warmupSteps : null;
}

/** Warmup, then the peak lr for ever. */
export function constantSchedule(options: ScheduleOptions): LrSchedule {
  const o = check(options);
  return (step) => warmup(o, step) ?? o.lr;
}

/** Warmup, then a straight line from lr (at the end of warmup) to minLr (at totalSteps). */
export function linearSchedule(options: ScheduleOptions): LrSchedule {
  const o = check(options);
  const span = Math.max(1, o.totalSteps - o.warmupSteps);
  return (step) => {
    const w = warmup(o, step);
    if (w !== null) return w;
    const t = Math.min(1, (step - o.warmupSteps) / span);
    return o.lr + (o.minLr - o.lr) * t;
  };
}

/**
 * Warmup, then half a cosine from lr to minLr over the remaining steps — open_clip's
 * `cosine_lr` (with minLr = 0): lr * (1 + cos(pi * e / es)) / 2, e = step - warmup.
 */
export function cosineSchedule(options: ScheduleOptions): LrSchedule {
  const o = check(options);
  const span = Math.max(1, o.totalSteps - o.warmupSteps);
  return (step) => {
    const w = warmup(o, step);
    if (w !== null) return w;
    const t = Math.min(1, (step - o.warmupSteps) / span);
    return o.minLr + 0.5 * (1 + Math.cos(Math.PI * t)) * (o.lr - o.minLr);
  };
}

/** The schedules `makeSchedule` knows, as `train.schedule` names them (default `cosine`). */
export type ScheduleName = 'cosine' | 'linear' | 'constant';

/** The schedule named in a config. */
export function makeSchedule(name: ScheduleName, options: ScheduleOptions): LrSchedule {
  switch (name) {
    case 'cosine':
      return cosineSchedule(options);
    case 'linear':
      return linearSchedule(options);
    case 'constant':
      return constantSchedule(options);
  }
}
