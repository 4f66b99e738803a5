/**
 * Child process for the kill-during-save test: trains the tiny model with a checkpoint every
 * 2 steps and, while saving step `pauseAt`, prints `PAUSED <temp dir>` and waits to be killed.
 * Usage: tsx --conditions=development saveChild.ts <outputDir> <pauseAt> <stage>
 */
import { initBackend } from '@tessera/core';
import { type SaveStage, Trainer } from '../src/index.js';
import { ArraySource, type Batch, mseLoss, TinyLinear } from './helpers.js';

const [outputDir, pauseAt, stage] = process.argv.slice(2) as [string, string, SaveStage];
await initBackend({ backend: 'wasm' });
const model = new TinyLinear();
const trainer = new Trainer<Batch>({
  model,
  source: new ArraySource(24, 4),
  config: { lr: 0.05, steps: 6, batchSize: 4, accumulation: 2, checkpointEvery: 2, seed: 123, outputDir },
  loss: mseLoss(model),
  progress: false,
  onSave: async (s, tempDir) => {
    if (s === stage && tempDir.includes(`step-${pauseAt.padStart(8, '0')}`)) {
      process.stdout.write(`PAUSED ${tempDir}\n`);
      setInterval(() => undefined, 1000);
      await new Promise(() => undefined);
    }
  },
});
await trainer.fit();
process.stdout.write('FINISHED\n');
