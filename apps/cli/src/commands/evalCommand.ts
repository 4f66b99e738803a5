import { TesseraError } from '@tessera/core';
import { readManifest } from '@tessera/data';
import { loadModel } from '@tessera/models';
import { ImageProcessor } from '@tessera/patches';
import { createEvalCaptionsCommand } from '@tessera/video-captioning';
import { Command } from 'commander';
import { preparePairs } from '../clip/pairs.js';
import { evaluateRetrieval, formatRetrieval } from '../clip/retrieval.js';
import { stripRanks } from '../clip/trainClip.js';
import { numberOption, startBackend } from './shared.js';

/**
 * `tessera eval retrieval --checkpoint dir --data manifest.jsonl [--json] [--lang en,zh]` and
 * `tessera eval captions` (from @tessera/video-captioning).
 */
export function createEvalCommand(): Command {
  const evalCmd = new Command('eval').description('Evaluate a trained model');
  evalCmd
    .command('retrieval')
    .description('Text-to-image and image-to-text retrieval: R@1/5/10, mean and median rank (best caption counts for image-to-text)')
    .requiredOption('--checkpoint <dir>', 'model directory (config.json, model.safetensors, tokenizer.json), e.g. runs/demo/model')
    .requiredOption('--data <manifest>', 'manifest of text-image pairs (JSONL, CSV or TSV), e.g. data/emoji/test.jsonl')
    .option(
      '--lang <list>',
      "languages to score separately, comma-separated (default: every language in the data; 'und' = captions without lang)",
    )
    .option('--captions <which>', "'all' captions of a language as queries, or each image's 'first' one", 'all')
    .option(
      '--max-length <n>',
      "token limit per caption (default: the tokenizer's truncation, else 32)",
      numberOption('--max-length', (n) => Number.isInteger(n) && n >= 2),
    )
    .option('--image-key <key>', 'manifest column of the image path')
    .option('--caption-key <key>', 'manifest column of the caption(s)')
    .option('--json', 'print the metrics as JSON', false)
    .addHelpText('after', '\nExample:\n  tessera eval retrieval --checkpoint runs/demo/model --data data/emoji/test.jsonl --lang en,zh')
    .action(
      async (o: {
        checkpoint: string;
        data: string;
        lang?: string;
        captions: string;
        maxLength?: number;
        imageKey?: string;
        captionKey?: string;
        json: boolean;
      }) => {
        if (o.captions !== 'all' && o.captions !== 'first')
          throw new TesseraError('E_CONFIG', `--captions must be 'all' or 'first', got '${o.captions}'`);
        await startBackend();
        const loaded = await loadModel(o.checkpoint);
        if (!loaded.tokenizer)
          throw new TesseraError('E_IO', `${o.checkpoint} has no tokenizer.json: retrieval needs the tokenizer the model was trained with`);
        const processor = loaded.processor ?? new ImageProcessor();
        const maxLength = o.maxLength ?? loaded.tokenizer.settings.truncation?.maxLength ?? 32;
        const manifest = await readManifest(o.data, { imageKey: o.imageKey, captionKey: o.captionKey });
        const { pairs } = await preparePairs(manifest.records, loaded.tokenizer, maxLength);
        if (pairs.length === 0) throw new TesseraError('E_DATA', `${o.data}: no readable text-image pair`);
        const languages = o.lang
          ? o.lang
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean)
          : [...new Set(pairs.flatMap((p) => [...p.texts.keys()]))];
        const report = evaluateRetrieval({
          model: loaded.model,
          tokenizer: loaded.tokenizer,
          processor,
          pairs,
          languages,
          maxLength,
          captions: o.captions,
        });
        if (Object.keys(report).length === 0)
          throw new TesseraError('E_DATA', `no caption in languages ${languages.join(', ')}; check --lang against the manifest`);
        const skipped = manifest.skipped.counts();
        if (o.json) console.log(JSON.stringify({ checkpoint: o.checkpoint, data: o.data, skipped, ...stripRanks(report) }, null, 2));
        else {
          console.log(
            `${pairs.length} images from ${o.data}${Object.keys(skipped).length ? ` (skipped: ${JSON.stringify(skipped)})` : ''}`,
          );
          console.log(formatRetrieval(report));
        }
        loaded.model.dispose();
      },
    );
  evalCmd.addCommand(createEvalCaptionsCommand());
  return evalCmd;
}
