import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { initBackend } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ArraySource, type Batch, mseLoss, TinyLinear } from '../test/helpers.js';
import { latestCheckpoint, listCheckpoints, loadCheckpoint, type SaveStage } from './checkpoint.js';
import { Trainer } from './trainer.js';

// Load tsx into this node process (not through tsx's CLI, which runs the script in a
// grandchild that SIGKILL on the CLI would leave orphaned).
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const child = fileURLToPath(new URL('../test/saveChild.ts', import.meta.url));

/** Starts the child trainer and resolves with the temp dir it pauses in; the caller kills it. */
function runUntilPaused(outputDir: string, pauseAt: number, stage: SaveStage): Promise<{ proc: ChildProcess; tempDir: string }> {
  const proc = spawn(process.execPath, ['--import', tsxLoader, '--conditions=development', child, outputDir, String(pauseAt), stage], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TESSERA_LOG_LEVEL: 'warn' },
  });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /PAUSED (\S+)/.exec(out);
      if (m) resolve({ proc, tempDir: m[1] as string });
    });
    proc.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    proc.on('exit', (code) => reject(new Error(`child exited (${code}) before pausing:\n${out}\n${err}`)));
  });
}

function kill(proc: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    proc.removeAllListeners('exit');
    proc.on('exit', () => resolve());
    proc.kill('SIGKILL');
  });
}

async function referenceLosses(outputDir: string): Promise<number[]> {
  const model = new TinyLinear();
  const trainer = new Trainer<Batch>({
    model,
    source: new ArraySource(24, 4),
    config: { lr: 0.05, steps: 6, batchSize: 4, accumulation: 2, checkpointEvery: 2, seed: 123, outputDir },
    loss: mseLoss(model),
    progress: false,
  });
  const result = await trainer.fit();
  model.dispose();
  trainer.dispose();
  return result.losses;
}

describe('checkpoints under a kill', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  it.each(['model-written', 'before-commit'] as const)(
    'a process killed while saving (at %s) leaves the previous checkpoint loadable, and the run resumes exactly',
    async (stage) => {
      const dir = await mkdtemp(path.join(tmpdir(), 'tessera-kill-'));
      const root = path.join(dir, 'checkpoints');
      const { proc, tempDir } = await runUntilPaused(dir, 4, stage);
      await kill(proc);
      // The half-written step 4 exists only as a temp directory; step 2 is the newest checkpoint.
      expect((await stat(tempDir)).isDirectory()).toBe(true);
      expect((await listCheckpoints(root)).map((c) => c.step)).toEqual([2]);
      const latest = (await latestCheckpoint(root)) as string;
      const ckpt = await loadCheckpoint(latest);
      expect(ckpt.state.step).toBe(2);
      expect(ckpt.model.get('weight')?.shape).toEqual([3, 2]);

      const model = new TinyLinear(3, 2, 77);
      const trainer = new Trainer<Batch>({
        model,
        source: new ArraySource(24, 4),
        config: { lr: 0.05, steps: 6, batchSize: 4, accumulation: 2, checkpointEvery: 2, seed: 123, outputDir: dir },
        loss: mseLoss(model),
        progress: false,
      });
      const resumed = await trainer.fit({ resume: true });
      expect(resumed.losses).toEqual((await referenceLosses(await mkdtemp(path.join(tmpdir(), 'tessera-ref-')))).slice(2));
      // The next save cleared the abandoned temp directory.
      expect((await readdir(root)).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
      expect((await listCheckpoints(root)).map((c) => c.step)).toEqual([2, 4, 6]);
      model.dispose();
      trainer.dispose();
    },
  );

  it('refuses a directory that is not a checkpoint with E_CHECKPOINT', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tessera-bad-'));
    await expect(loadCheckpoint(dir)).rejects.toThrow(expect.objectContaining({ code: 'E_CHECKPOINT' }));
  });
});
