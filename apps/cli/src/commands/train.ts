import path from 'node:path';
import { nearestName, TesseraError } from '@tessera/core';
import { isHfFolder, PRETRAINED_CAPTIONERS, readHfConfig } from '@tessera/models';
import { parseShard, type Shard, type TrainTaskOptions, trainClipTask } from '@tessera/retrieval';
import { loadConfigFile } from '@tessera/train';
import { trainCaptionerTask } from '@tessera/video-captioning';
import { Command } from 'commander';

/** What `tessera train` runs for each `task` of a run config (absent: clip). */
const TASKS: Record<string, (raw: Record<string, unknown>, o: TrainTaskOptions) => Promise<void>> = {
  clip: trainClipTask,
  captioning: trainCaptionerTask,
};

/** The task a run config names; an unknown one is an E_CONFIG error naming the nearest task. */
function taskOf(raw: Record<string, unknown>): string {
  const task = raw.task ?? 'clip';
  if (typeof task === 'string' && task in TASKS) return task;
  const names = Object.keys(TASKS);
  const near = typeof task === 'string' ? nearestName(task, names) : undefined;
  throw new TesseraError(
    'E_CONFIG',
    `unknown task ${JSON.stringify(task)}${near ? ` — did you mean ${near}?` : ''}: task is one of ${names.join(', ')} (default clip)`,
  );
}

/** Whether `dir` is a Hugging Face captioner folder (config.json model_type git or blip). */
async function isPretrainedCaptioner(dir: string): Promise<boolean> {
  if (!(await isHfFolder(dir))) return false;
  const modelType = (await readHfConfig(dir)).model_type;
  return PRETRAINED_CAPTIONERS.some((t) => (t.modelTypes as readonly unknown[]).includes(modelType));
}

/**
 * `--init <dir>` in a run config: a CLIP run takes the whole model from it (so the config's
 * `model` gives way); a captioning run fine-tunes a Hugging Face GIT folder whole (its model
 * section gives way too), or initialises its vision tower from any other model.
 */
async function startFrom(raw: Record<string, unknown>, task: string, dir: string): Promise<void> {
  if (task === 'captioning') {
    const { vision: _v, pretrained: _p, ...init } = (raw.init as Record<string, unknown> | undefined) ?? {};
    if (await isPretrainedCaptioner(dir)) {
      delete raw.model;
      raw.init = { ...init, pretrained: dir };
    } else raw.init = { ...init, vision: dir };
    return;
  }
  delete raw.model;
  delete (raw.tokenizer as Record<string, unknown> | undefined)?.path;
  raw.init = dir;
}

/** `tessera train --config c.yaml [--resume] [--train.lr 3e-4 ...]`: one command for every task. */
export function createTrainCommand(): Command {
  return new Command('train')
    .description(
      'Train from a YAML/JSON run config: a CLIP model on text-image pairs (task: clip, the default) or a video captioner (task: captioning); checkpoints, metrics, exported model directory',
    )
    .requiredOption('-c, --config <file>', 'run config (YAML or JSON): task, model, data, train sections (and tokenizer, budget for CLIP)')
    .option('--resume', 'continue from the latest checkpoint in train.outputDir, exactly where it stopped', false)
    .option(
      '--init <dir>',
      'start from this model: a Hugging Face folder (CLIP, Chinese-CLIP, SigLIP) or a Tessera model directory; captioning: fine-tune a Hugging Face GIT folder, or take the vision tower of another model',
    )
    .option(
      '--shard <i/n>',
      'train on part i of n of data.shards (0-based; sets data.rank and data.worldSize), as tessera index --shard splits images',
      (value: string) => parseShard(value),
    )
    .option('--no-progress', 'no progress bar')
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .addHelpText(
      'after',
      `
Any config key can be overridden with --<dotted.key> <value>, e.g.
  tessera train --config datasets/emoji/clip-tiny.yaml --train.lr 3e-4 --train.batchSize 64 --budget.minutes 10
  tessera train --config datasets/moving-emoji/captioner-tiny.yaml --train.steps 500
  tessera train --config datasets/emoji/clip-tiny.yaml --init ./clip-vit-base-patch32 --train.steps 200
  tessera train --config datasets/moving-emoji/captioner-tiny.yaml --init ./git-base-vatex --train.lr 5e-5
  tessera train --config clip-shards.yaml --data.shards 'data/{00000..00099}.tar' --shard 0/2   # and 1/2

The whole config is checked before any data is read: a bad value or an unknown key (with the
nearest valid name) is reported at once.
Outputs (in train.outputDir): metrics.jsonl, loss.svg, checkpoints/, and the model directory
(CLIP: exportDir, default <outputDir>/model, read by 'tessera eval retrieval --checkpoint' and
loadModel(); captioner: <outputDir>/model, read by 'tessera caption --checkpoint'; a fine-tuned
GIT is written there as a Hugging Face folder, which transformers' from_pretrained reads too).
Interrupt with Ctrl-C: the run stops after the current step, saves, and --resume continues it;
--resume on a finished run says so, or continues when train.steps was raised.`,
    )
    .action(async (opts: { config: string; init?: string; shard?: Shard; resume: boolean; progress: boolean }, cmd: Command) => {
      const raw = await loadConfigFile(opts.config, cmd.args);
      const task = taskOf(raw);
      if (opts.shard) raw.data = { ...(raw.data as Record<string, unknown>), rank: opts.shard.index, worldSize: opts.shard.count };
      if (opts.init !== undefined) await startFrom(raw, task, path.resolve(opts.init));
      const run = TASKS[task] as (typeof TASKS)[string];
      const controller = new AbortController();
      const onSignal = () => controller.abort();
      process.once('SIGINT', onSignal);
      try {
        await run(raw, { configFile: opts.config, resume: opts.resume, progress: opts.progress, signal: controller.signal });
      } finally {
        process.off('SIGINT', onSignal);
      }
    });
}
