import path from 'node:path';
import { readConfigFile } from '@tessera/train';
import { isCaptioningConfig, loadCaptionerRunConfig, trainCaptioner } from '@tessera/video-captioning';
import { Command } from 'commander';
import { formatRetrieval } from '../clip/retrieval.js';
import { loadRunConfig } from '../clip/runConfig.js';
import { trainClip } from '../clip/trainClip.js';
import { startBackend } from './shared.js';

/** `tessera train --config c.yaml [--resume] [--train.lr 3e-4 ...]` */
export function createTrainCommand(): Command {
  return new Command('train')
    .description(
      'Train a CLIP model on text-image pairs, or a video captioner (config with task: captioning), from a YAML/JSON run config (checkpoints, metrics, exported model directory)',
    )
    .requiredOption('-c, --config <file>', 'run config (YAML or JSON): model, tokenizer, data, train sections')
    .option('--resume', 'continue from the latest checkpoint in train.outputDir, exactly where it stopped', false)
    .option('--no-progress', 'no progress bar')
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .addHelpText(
      'after',
      `
Any config key can be overridden with --<dotted.key> <value>, e.g.
  tessera train --config datasets/emoji/clip-tiny.yaml --train.lr 3e-4 --train.batchSize 64 --budget.minutes 10

Outputs (in train.outputDir): metrics.jsonl, loss.svg, checkpoints/, and the model directory
(exportDir, default <outputDir>/model) that 'tessera eval retrieval --checkpoint' and loadModel() read.
Interrupt with Ctrl-C: the run stops after the current step, saves, and --resume continues it.`,
    )
    .action(async (opts: { config: string; resume: boolean; progress: boolean }, cmd: Command) => {
      if (isCaptioningConfig(await readConfigFile(opts.config))) return trainCaptionerFromCli(opts, cmd.args);
      const config = await loadRunConfig(opts.config, cmd.args);
      await startBackend();
      const controller = new AbortController();
      const onSignal = () => controller.abort();
      process.once('SIGINT', onSignal);
      try {
        const run = await trainClip(config, {
          baseDir: path.dirname(path.resolve(opts.config)),
          resume: opts.resume,
          signal: controller.signal,
          progress: opts.progress,
        });
        console.log(
          `trained ${run.steps} steps in ${(run.trainSeconds / 60).toFixed(1)} min (${run.samplesPerSecond.toFixed(1)} images/s); stop: ${run.result.stopReason}`,
        );
        if (run.report) console.log(formatRetrieval(run.report));
        console.log(`model directory: ${run.exportDir}`);
      } finally {
        process.off('SIGINT', onSignal);
      }
    });
}

/** `tessera train` with a `task: captioning` config: the video captioner of @tessera/video-captioning. */
async function trainCaptionerFromCli(opts: { config: string; resume: boolean; progress: boolean }, args: string[]): Promise<void> {
  const config = await loadCaptionerRunConfig(opts.config, args);
  await startBackend();
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  try {
    const run = await trainCaptioner(config, { resume: opts.resume, progress: opts.progress, signal: controller.signal });
    console.log(
      `trained ${run.result.step} steps on ${run.clips} clips; last loss ${run.result.losses.at(-1)?.toFixed(4)}; stop: ${run.result.stopReason}`,
    );
    console.log(`model directory: ${run.modelDir}`);
  } finally {
    process.off('SIGINT', onSignal);
  }
}
