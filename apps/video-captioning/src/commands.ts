import { initBackend } from '@tessera/core';
import { CAPTION_LANGS, type CaptionLang, loadCaptioner } from '@tessera/models';
import { Command, InvalidArgumentError } from 'commander';
import { loadCaptionSet } from './captionDataset.js';
import { captionVideo } from './captionVideo.js';
import { type CaptionerEvaluation, evaluateCaptioner } from './evaluateCaptioner.js';
import { parseCaptionerRunConfig, trainCaptioner } from './trainCaptioner.js';

const DEFAULT_CHECKPOINT = 'runs/captioner-tiny/model';

function beamsOption(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 16) throw new InvalidArgumentError('expected an integer from 1 (greedy) to 16');
  return n;
}

function langOption(value: string): CaptionLang {
  if (!CAPTION_LANGS.includes(value as CaptionLang)) throw new InvalidArgumentError(`expected one of ${CAPTION_LANGS.join(', ')}`);
  return value as CaptionLang;
}

function langsOption(value: string): CaptionLang[] {
  return value.split(',').map((v) => langOption(v.trim()));
}

/** One line per metric, as the COCO evaluation prints them. */
export function formatCaptionEvaluation(e: CaptionerEvaluation): string {
  const s = e.scores;
  const rows = [
    `${e.lang} (${s.count} clips, ${e.beams > 1 ? `beam ${e.beams}` : 'greedy'})`,
    `  BLEU-1 ${s.bleu1.toFixed(4)}  BLEU-2 ${s.bleu2.toFixed(4)}  BLEU-3 ${s.bleu3.toFixed(4)}  BLEU-4 ${s.bleu4.toFixed(4)}`,
    `  ROUGE-L ${s.rougeL.toFixed(4)}  CIDEr-D ${s.ciderD.toFixed(4)}`,
  ];
  for (const x of e.examples.slice(0, 3)) rows.push(`  ${x.id}: "${x.candidate}"  (ref: "${x.references[0]}")`);
  return rows.join('\n');
}

function tokensOption(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

/** `caption <video|image> [--checkpoint dir] [--beam 3] [--lang en|zh] [--max-tokens n] [--json]` */
export function createCaptionCommand(): Command {
  return new Command('caption')
    .description('Caption a video (any length or format ffmpeg decodes) or a still image with a trained or pretrained captioner')
    .argument('<video>', 'video or image file, e.g. clip.mp4 or photo.jpg')
    .option(
      '--checkpoint <dir>',
      'captioner directory: a Tessera one (config.json, vocab.json, model.safetensors) or a Hugging Face GIT/BLIP folder',
      DEFAULT_CHECKPOINT,
    )
    .option('--beam <n>', 'beam size (1 = greedy)', beamsOption, 3)
    .option('--lang <lang>', 'output language: en or zh', langOption, 'en' as CaptionLang)
    .option('--max-tokens <n>', "longest caption in tokens (default: the checkpoint's)", tokensOption)
    .option('--json', 'print JSON {video, caption, lang, tokens, beams}', false)
    .action(async (video: string, o: { checkpoint: string; beam: number; lang: CaptionLang; maxTokens?: number; json: boolean }) => {
      await initBackend();
      const captioner = await loadCaptioner(o.checkpoint);
      try {
        const r = await captionVideo(captioner, video, { beams: o.beam, lang: o.lang, maxNewTokens: o.maxTokens });
        console.log(o.json ? JSON.stringify(r) : r.caption);
      } finally {
        captioner.model.dispose();
      }
    });
}

/** `captions --checkpoint dir --data manifest.jsonl [--lang en,zh] [--beam n] [--json]` (mount under `eval`). */
export function createEvalCaptionsCommand(): Command {
  return new Command('captions')
    .description('Caption every clip of a manifest and print BLEU-1..4, ROUGE-L and CIDEr-D per language (COCO definitions)')
    .requiredOption('--checkpoint <dir>', 'captioner directory')
    .requiredOption('--data <manifest>', 'manifest of captioned videos, e.g. data/moving-emoji/test.jsonl')
    .option('--lang <list>', 'languages, comma-separated (default: every language the captioner writes)', langsOption)
    .option('--beam <n>', 'beam size (1 = greedy)', beamsOption, 1)
    .option('--split <name>', 'only rows of this split')
    .option('--json', 'print the metrics as JSON', false)
    .action(async (o: { checkpoint: string; data: string; lang?: CaptionLang[]; beam: number; split?: string; json: boolean }) => {
      await initBackend();
      const captioner = await loadCaptioner(o.checkpoint);
      try {
        const langs = o.lang ?? captioner.text.langs;
        const set = await loadCaptionSet(o.data, {
          numFrames: captioner.model.numFrames,
          imageSize: captioner.model.imageSize,
          processor: captioner.processor,
          split: o.split,
        });
        const results = langs.map((lang) => evaluateCaptioner(captioner, set.clips, { lang, beams: o.beam }));
        if (o.json) console.log(JSON.stringify({ results, skipped: set.skipped }, null, 2));
        else {
          for (const r of results) console.log(formatCaptionEvaluation(r));
          if (Object.keys(set.skipped).length > 0) console.log(`skipped: ${JSON.stringify(set.skipped)}`);
        }
      } finally {
        captioner.model.dispose();
      }
    });
}

/**
 * `tessera train` for a captioning run config (`task: captioning`; apps/cli dispatches on the
 * task): `raw` is the config file as read with its overrides; the whole config is validated
 * before any clip is read.
 */
export async function trainCaptionerTask(
  raw: Record<string, unknown>,
  o: { configFile: string; resume: boolean; progress: boolean; signal: AbortSignal },
): Promise<void> {
  const config = parseCaptionerRunConfig(raw, o.configFile);
  await initBackend();
  const run = await trainCaptioner(config, { resume: o.resume, progress: o.progress, signal: o.signal });
  if (run.result.losses.length === 0) console.log(`the run is complete at step ${run.result.step}; raise train.steps to train further`);
  else
    console.log(
      `trained ${run.result.step} steps on ${run.clips} clips; last loss ${run.result.losses.at(-1)?.toFixed(4)}; stop: ${run.result.stopReason}`,
    );
  console.log(`model directory: ${run.modelDir}`);
}

/**
 * The captioning commands for the `tessera` CLI: `caption` and `eval captions` (an `eval`
 * command holding `captions`; a CLI that already has `eval` adds `createEvalCaptionsCommand()`
 * to it instead). Training is `tessera train` with a `task: captioning` config (`trainCaptionerTask`).
 */
export function createCaptioningCommands(): Command[] {
  const evalCmd = new Command('eval').description('Evaluate a trained model');
  evalCmd.addCommand(createEvalCaptionsCommand());
  return [createCaptionCommand(), evalCmd];
}
