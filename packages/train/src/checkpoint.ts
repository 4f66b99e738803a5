import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import {
  loadSafetensors,
  pathExists,
  type RandomState,
  type SafetensorsTensor,
  saveSafetensors,
  TesseraError,
  writeFileAtomic,
} from '@tessera/core';
import type { AdamWState } from './adamw.js';

/** The `format` of every checkpoint's state.json; `loadCheckpoint` refuses other values (E_CHECKPOINT). */
export const CHECKPOINT_FORMAT = 'tessera-train-checkpoint';
/** The checkpoint layout version in state.json; `loadCheckpoint` refuses other versions (E_CHECKPOINT). */
export const CHECKPOINT_VERSION = 1;

/** Everything besides tensors that a run needs to continue exactly; stored as state.json. */
export interface TrainingState {
  format: typeof CHECKPOINT_FORMAT;
  version: typeof CHECKPOINT_VERSION;
  /** Optimizer steps completed. */
  step: number;
  /** Epochs completed. */
  epoch: number;
  /** Examples consumed. */
  samples: number;
  /** The trainer's random stream after `step`. */
  rng: RandomState;
  /** The batch source's position (`source.state()`). */
  data: unknown;
  /** The resolved config of the run. */
  config: unknown;
  /** Best monitored value so far and the evaluations since it improved. */
  monitor: { metric: string | null; best: number | null; bestStep: number | null; badEvals: number };
  /** The last evaluation's metrics at this step, if any. */
  metrics: Record<string, number>;
  /** Training time (seconds) spent before this checkpoint. */
  elapsedSeconds: number;
}

/** A checkpoint read back by `loadCheckpoint`. */
export interface Checkpoint {
  /** The `step-NNNNNNNN` directory it was read from. */
  path: string;
  /** The contents of state.json. */
  state: TrainingState;
  /** model.safetensors: the weights by parameter name, for `Module.loadStateDict`. */
  model: Map<string, SafetensorsTensor>;
  /** optimizer.safetensors: AdamW's step and moments, for `AdamW.loadState`. */
  optimizer: AdamWState;
}

/** Stages of a save, in order, for tests that interrupt one; `tempDir` is the uncommitted directory. */
export type SaveStage = 'model-written' | 'optimizer-written' | 'before-commit';
/**
 * Called by `saveCheckpoint` at each `SaveStage` (awaited); throwing aborts the save before it is
 * published, leaving earlier checkpoints intact.
 */
export type SaveHook = (stage: SaveStage, tempDir: string) => void | Promise<void>;

const STEP_DIR = /^step-(\d+)$/;
const stepDirName = (step: number) => `step-${String(step).padStart(8, '0')}`;

async function syncDir(dir: string): Promise<void> {
  // A rename is durable only once the directory entry is flushed (not supported everywhere).
  try {
    const h = await open(dir, 'r');
    await h.sync().catch(() => undefined);
    await h.close();
  } catch {
    /* best effort */
  }
}

/**
 * Writes a checkpoint directory `<root>/step-NNNNNNNN/` (model.safetensors,
 * optimizer.safetensors, state.json) atomically: everything goes to a temp directory beside it,
 * each file fsynced, and one rename publishes it. A crash at any point leaves earlier
 * checkpoints intact and at most a `.tmp-*` directory, which the next save removes.
 */
export async function saveCheckpoint(
  root: string,
  parts: { model: Map<string, SafetensorsTensor>; optimizer: AdamWState; state: TrainingState },
  hook?: SaveHook,
): Promise<string> {
  await mkdir(root, { recursive: true });
  await removeTempDirs(root);
  const final = path.join(root, stepDirName(parts.state.step));
  const temp = path.join(root, `.tmp-${stepDirName(parts.state.step)}-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(temp);
  await saveSafetensors(path.join(temp, 'model.safetensors'), parts.model, { format: 'pt', step: String(parts.state.step) });
  await hook?.('model-written', temp);
  await saveSafetensors(path.join(temp, 'optimizer.safetensors'), parts.optimizer.tensors, { step: String(parts.optimizer.step) });
  await hook?.('optimizer-written', temp);
  await writeFileAtomic(path.join(temp, 'state.json'), `${JSON.stringify(parts.state, null, 2)}\n`);
  await syncDir(temp);
  await hook?.('before-commit', temp);
  if (await pathExists(final)) {
    // Re-saving a step (a resumed run): move the old one aside first, a rename cannot replace a non-empty directory.
    const old = `${temp}-old`;
    await rename(final, old);
    await rename(temp, final);
    await rm(old, { recursive: true, force: true });
  } else {
    await rename(temp, final);
  }
  await syncDir(root);
  return final;
}

async function removeTempDirs(root: string): Promise<void> {
  for (const name of await readdir(root)) if (name.startsWith('.tmp-')) await rm(path.join(root, name), { recursive: true, force: true });
}

/** Published checkpoints under `root`, oldest first (temp directories are not listed). */
export async function listCheckpoints(root: string): Promise<Array<{ step: number; path: string }>> {
  let names: string[];
  try {
    names = await readdir(root);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return names
    .map((name) => ({ name, match: STEP_DIR.exec(name) }))
    .filter((e) => e.match)
    .map((e) => ({ step: Number((e.match as RegExpExecArray)[1]), path: path.join(root, e.name) }))
    .sort((a, b) => a.step - b.step);
}

/** The newest checkpoint under `root`, or null. */
export async function latestCheckpoint(root: string): Promise<string | null> {
  const all = await listCheckpoints(root);
  return all.length ? (all[all.length - 1] as { path: string }).path : null;
}

/** Records which checkpoint is the best (`<root>/best.json`), atomically. */
export async function markBest(root: string, best: { step: number; metric: string; value: number }): Promise<void> {
  await writeFileAtomic(path.join(root, 'best.json'), `${JSON.stringify({ ...best, path: stepDirName(best.step) })}\n`);
}

/** The best checkpoint's directory under `root` (from best.json), or null. */
export async function bestCheckpoint(root: string): Promise<string | null> {
  try {
    const best = JSON.parse(await readFile(path.join(root, 'best.json'), 'utf8')) as { path: string };
    const dir = path.join(root, best.path);
    return (await pathExists(dir)) ? dir : null;
  } catch {
    return null;
  }
}

/** Deletes all but the newest `keepLast` checkpoints and the best one. */
export async function pruneCheckpoints(root: string, keepLast: number): Promise<void> {
  const all = await listCheckpoints(root);
  const best = await bestCheckpoint(root);
  for (const c of all.slice(0, Math.max(0, all.length - keepLast))) {
    if (c.path !== best) await rm(c.path, { recursive: true, force: true });
  }
}

/** Reads and checks a checkpoint directory written by `saveCheckpoint`. */
export async function loadCheckpoint(dir: string): Promise<Checkpoint> {
  let state: TrainingState;
  try {
    state = JSON.parse(await readFile(path.join(dir, 'state.json'), 'utf8')) as TrainingState;
  } catch (error) {
    throw new TesseraError(
      'E_CHECKPOINT',
      `${dir} is not a readable checkpoint (state.json: ${(error as Error).message}); pass a step-NNNNNNNN directory written by the trainer`,
      {
        details: { path: dir },
        cause: error,
      },
    );
  }
  if (state.format !== CHECKPOINT_FORMAT || state.version !== CHECKPOINT_VERSION) {
    throw new TesseraError(
      'E_CHECKPOINT',
      `${dir}: unsupported checkpoint format ${state.format} v${state.version} (expected ${CHECKPOINT_FORMAT} v${CHECKPOINT_VERSION})`,
      {
        details: { path: dir },
      },
    );
  }
  const model = await loadSafetensors(path.join(dir, 'model.safetensors'));
  const optimizer = await loadSafetensors(path.join(dir, 'optimizer.safetensors'));
  return {
    path: dir,
    state,
    model: model.tensors,
    optimizer: { step: Number(optimizer.metadata.step ?? state.step), tensors: optimizer.tensors },
  };
}
