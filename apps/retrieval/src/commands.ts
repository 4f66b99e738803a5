import { existsSync } from 'node:fs';
import path from 'node:path';
import { initBackend, TesseraError } from '@tessera/core';
import { readManifest } from '@tessera/data';
import { openStore } from '@tessera/index';
import { loadModel } from '@tessera/models';
import { ImageProcessor } from '@tessera/patches';
import { Command } from 'commander';
import { Embedder } from './embedder.js';
import { evaluateRetrieval, formatRetrieval } from './evaluateRetrieval.js';
import { finetuneClassifier } from './finetune.js';
import { listImages } from './imageSource.js';
import { indexImages } from './indexImages.js';
import { preparePairs } from './pairs.js';
import { rankCaptions } from './rankCaptions.js';
import { RetrievalService } from './retrievalService.js';
import { parseRunConfig } from './runConfig.js';
import { parseShard, type Shard } from './shard.js';
import { writeSidecar } from './storeRoots.js';
import { stripRanks, trainClip } from './trainClip.js';

/** A commander parser for a number option that fails with a message naming the option. */
export function numberOption(name: string, check: (n: number) => boolean = Number.isFinite) {
  return (value: string): number => {
    const n = Number(value);
    if (!check(n)) throw new Error(`${name} must be a number${check === Number.isFinite ? '' : ' in range'}, got '${value}'`);
    return n;
  };
}

/** An integer option in min..max. */
function intOption(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer in ${min}..${max}, got '${value}'`);
    return n;
  };
}

/** `tessera index --checkpoint dir --images <folder|manifest> --store path [--kind exact|lance]` */
function indexCommand(): Command {
  return new Command('index')
    .description('Embed a folder or manifest of images into a vector store; reruns only embed new or changed files and drop vanished ones')
    .requiredOption('--checkpoint <dir>', 'model directory, e.g. runs/demo/model')
    .requiredOption('--images <source>', 'a folder (searched recursively) or a manifest (JSONL/CSV/TSV) of images')
    .requiredOption('--store <path>', 'vector store: a file for --kind exact, a directory for --kind lance')
    .option('--kind <kind>', "store to create when none exists: 'exact' (flat file) or 'lance' (LanceDB)", 'exact')
    .option('--batch-size <n>', 'images embedded per batch', intOption('--batch-size', 1, 4096), 32)
    .option(
      '--flush-every <seconds>',
      'save the store at most this often while indexing (an interruption loses at most this much)',
      intOption('--flush-every', 0, 86_400),
      10,
    )
    .option(
      '--shard <i/n>',
      'embed only part i of n (0-based, split by a hash of each image id); n such processes can fill one --kind lance store together',
      (value: string) => parseShard(value),
    )
    .option('--json', 'print the report as JSON', false)
    .addHelpText(
      'after',
      '\nExamples:\n  tessera index --checkpoint runs/demo/model --images data/emoji/test.jsonl --store emoji.tsv\n  tessera index --checkpoint runs/demo/model --images photos/ --store photos.lance --kind lance --shard 0/4   # and 1/4, 2/4, 3/4',
    )
    .action(
      async (o: {
        checkpoint: string;
        images: string;
        store: string;
        kind: string;
        batchSize: number;
        flushEvery: number;
        shard?: Shard;
        json: boolean;
      }) => {
        if (o.kind !== 'exact' && o.kind !== 'lance')
          throw new TesseraError('E_CONFIG', `--kind must be 'exact' or 'lance', got '${o.kind}'`);
        // An exact store rewrites its whole file on flush: concurrent shards would overwrite each other.
        const shardNeedsLance = () =>
          new TesseraError('E_CONFIG', '--shard needs a LanceDB store (--kind lance): several processes cannot share an exact store file');
        if (o.shard !== undefined && o.kind !== 'lance' && !existsSync(o.store)) throw shardNeedsLance();
        await initBackend();
        const embedder = await Embedder.load(o.checkpoint);
        const listing = await listImages(o.images);
        const store = await openStore(o.store, { create: { kind: o.kind, modelId: embedder.modelId, dim: embedder.dim } });
        try {
          if (o.shard !== undefined && store.info.kind !== 'lance') throw shardNeedsLance();
          // Recorded first, so a server started mid-run already knows where images may come from.
          await writeSidecar(o.store, { roots: [listing.root], checkpoint: path.resolve(o.checkpoint) });
          const report = await indexImages({
            embedder,
            store,
            listing,
            batchSize: o.batchSize,
            flushIntervalMs: o.flushEvery * 1000,
            showProgress: !o.json,
            ...(o.shard === undefined ? {} : { shard: o.shard }),
          });
          const count = await store.count();
          if (o.json) console.log(JSON.stringify({ store: o.store, model: embedder.modelId, count, ...report }, null, 2));
          else {
            console.log(
              `${o.store}: ${count} images (added ${report.added}, updated ${report.updated}, unchanged ${report.unchanged}, deleted ${report.deleted})`,
            );
            const skipped = Object.entries(report.skipped);
            if (skipped.length > 0) console.log(`skipped: ${skipped.map(([why, n]) => `${why} ${n}`).join(', ')}`);
          }
        } finally {
          await store.close();
          embedder.dispose();
        }
      },
    );
}

/** `tessera search --store s "a red heart" [-k 10] [--json]`, or `--image q.png` */
function searchCommand(): Command {
  return new Command('search')
    .description('Find the indexed images closest to a text (any language the tokenizer knows) or to an image')
    .argument('[text]', 'what the image shows, e.g. "a red heart" or "红心"')
    .requiredOption('--store <path>', 'vector store built by `tessera index`')
    .option('--checkpoint <dir>', 'model directory (default: the one `tessera index` used for this store)')
    .option('--image <file>', 'search by this image instead of a text')
    .option('--captions <manifest>', "with --image: rank this manifest's captions (image to text) instead of the store's images")
    .option('-k, --k <n>', 'number of results', intOption('-k', 1, 10_000), 10)
    .option('--json', 'print the results as JSON', false)
    .addHelpText(
      'after',
      '\nExamples:\n  tessera search --checkpoint runs/demo/model --store emoji.tsv "a red heart"\n  tessera search --checkpoint runs/demo/model --store emoji.tsv --image q.png -k 5',
    )
    .action(
      async (
        text: string | undefined,
        o: { store: string; checkpoint?: string; image?: string; captions?: string; k: number; json: boolean },
      ) => {
        if ((text === undefined) === (o.image === undefined))
          throw new TesseraError('E_QUERY', 'give either a text query or --image <file>, not both or neither');
        if (o.captions !== undefined && o.image === undefined)
          throw new TesseraError('E_QUERY', '--captions ranks captions for an image: add --image <file>');
        const service = await RetrievalService.open(o.store, o.checkpoint);
        try {
          if (o.captions !== undefined) {
            const manifest = await readManifest(o.captions);
            const texts = [...new Set(manifest.records.flatMap((r) => r.captions.map((c) => c.text)))];
            const image = await service.embedder.decode(o.image as string);
            const ranked = rankCaptions(service.embedder, image, texts, o.k);
            if (o.json) console.log(JSON.stringify({ query: { image: o.image }, captions: o.captions, k: o.k, results: ranked }, null, 2));
            else for (const [i, h] of ranked.entries()) console.log(`${String(i + 1).padStart(3)}  ${h.score.toFixed(4)}  ${h.text}`);
            return;
          }
          const hits = o.image === undefined ? await service.searchText(text as string, o.k) : await service.searchImage(o.image, o.k);
          if (o.json) console.log(JSON.stringify({ query: o.image ? { image: o.image } : { text }, k: o.k, results: hits }, null, 2));
          else
            for (const [i, h] of hits.entries())
              console.log(`${String(i + 1).padStart(3)}  ${h.score.toFixed(4)}  ${h.id}${h.caption ? `  ${h.caption}` : ''}`);
        } finally {
          await service.close();
        }
      },
    );
}

/** `tessera embed --checkpoint dir [--text t]... [--image file]... [--json]` */
function embedCommand(): Command {
  const collect = (value: string, previous: string[]) => [...previous, value];
  return new Command('embed')
    .description('Print the unit-length embeddings of texts and images, in the order given, from a Tessera or Hugging Face model')
    .requiredOption('--checkpoint <dir>', 'model directory or Hugging Face folder (CLIP, Chinese-CLIP, SigLIP)')
    .option('--text <text>', 'a text to embed (repeat for more)', collect, [])
    .option('--image <file>', 'an image file to embed (repeat for more)', collect, [])
    .option('--json', 'print {"texts": [[...], ...], "images": [[...], ...]}', false)
    .addHelpText(
      'after',
      '\nExamples:\n  tessera embed --checkpoint ./clip-vit-base-patch32 --text "a dog on the beach" --image dog.jpg --json\n  tessera embed --checkpoint runs/demo/model --text "红心" --text "red heart"',
    )
    .action(async (o: { checkpoint: string; text: string[]; image: string[]; json: boolean }) => {
      if (o.text.length === 0 && o.image.length === 0)
        throw new TesseraError('E_QUERY', 'nothing to embed: give --text <text> and/or --image <file> (each may repeat)');
      await initBackend();
      const embedder = await Embedder.load(o.checkpoint);
      try {
        const texts = embedder.embedTexts(o.text);
        const images = embedder.embedImages(await Promise.all(o.image.map((file) => embedder.decode(file))));
        const list = (rows: Float32Array[]) => rows.map((row) => Array.from(row));
        if (o.json) console.log(JSON.stringify({ texts: list(texts), images: list(images) }));
        else {
          const line = (kind: string, input: string, row: Float32Array) =>
            console.log(`${kind}\t${input}\t${Array.from(row, (v) => v.toFixed(6)).join(' ')}`);
          for (const [i, row] of texts.entries()) line('text', o.text[i] as string, row);
          for (const [i, row] of images.entries()) line('image', o.image[i] as string, row);
        }
      } finally {
        embedder.dispose();
      }
    });
}

/** `retrieval --checkpoint dir --data manifest.jsonl [--json] [--lang en,zh]` (mount under `eval`). */
export function createEvalRetrievalCommand(): Command {
  return new Command('retrieval')
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
        await initBackend();
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
}

/** `tessera finetune --init dir --data train.jsonl --label-key category --out dir` */
export function createFinetuneCommand(): Command {
  const positive = (name: string) => numberOption(name, (n) => n > 0);
  const positiveInt = (name: string) => numberOption(name, (n) => Number.isInteger(n) && n > 0);
  return new Command('finetune')
    .description("Fine-tune a trained model's vision tower with a [CLS] classification head (linear + softmax) on a labelled manifest")
    .option('--init <dir>', 'model to start from: a Tessera model directory (e.g. runs/demo/model) or a Hugging Face folder')
    .option('--checkpoint <dir>', 'the same as --init')
    .requiredOption('--data <manifest>', 'training manifest; the class is the row field named by --label-key')
    .requiredOption('--label-key <field>', 'manifest field holding the class, e.g. category')
    .requiredOption('--out <dir>', 'output directory (classifier.safetensors, classes.json, metrics)')
    .option('--eval <manifest>', 'held-out manifest to report accuracy on')
    .option('--epochs <n>', 'passes over the data', positiveInt('--epochs'), 3)
    .option('--lr <x>', 'peak learning rate', positive('--lr'), 3e-4)
    .option('--batch-size <n>', 'images per step', positiveInt('--batch-size'), 64)
    .option('--freeze', 'train only the head (a linear probe)', false)
    .addHelpText(
      'after',
      '\nExample:\n  tessera finetune --init runs/demo/model --data data/emoji/train.jsonl --eval data/emoji/test.jsonl --label-key category --out runs/category',
    )
    .action(
      async (o: {
        init?: string;
        checkpoint?: string;
        data: string;
        labelKey: string;
        out: string;
        eval?: string;
        epochs: number;
        lr: number;
        batchSize: number;
        freeze: boolean;
      }) => {
        const start = o.init ?? o.checkpoint;
        if (start === undefined || (o.init !== undefined && o.checkpoint !== undefined))
          throw new TesseraError('E_CONFIG', 'give the model to start from once: --init <dir> (or its alias --checkpoint <dir>)');
        await initBackend();
        const result = await finetuneClassifier({
          checkpoint: start,
          data: o.data,
          eval: o.eval,
          labelKey: o.labelKey,
          outputDir: o.out,
          freezeEncoder: o.freeze,
          train: { lr: o.lr, epochs: o.epochs, batchSize: o.batchSize, warmupSteps: 10, weightDecay: 0.05 },
        });
        console.log(
          `${result.classes.length} classes; ${result.accuracy === null ? 'no --eval given' : `accuracy on ${o.eval}: ${(100 * result.accuracy).toFixed(1)} %`}`,
        );
        console.log(`classifier: ${result.outputDir}`);
      },
    );
}

/** What `tessera train` is given for a run config: the config file, read with its overrides, and how to run. */
export interface TrainTaskOptions {
  /** The config file; relative paths in it resolve against its directory. */
  configFile: string;
  resume: boolean;
  progress: boolean;
  signal: AbortSignal;
}

/**
 * `tessera train` for a CLIP run config (`task: clip`, the default; apps/cli dispatches on the
 * task): validates the whole config before any data work, trains, prints retrieval on data.eval.
 */
export async function trainClipTask(raw: Record<string, unknown>, o: TrainTaskOptions): Promise<void> {
  const config = parseRunConfig(raw);
  await initBackend({ threads: config.backend.threads });
  const run = await trainClip(config, {
    baseDir: path.dirname(path.resolve(o.configFile)),
    resume: o.resume,
    signal: o.signal,
    progress: o.progress,
  });
  if (run.result.losses.length === 0) console.log(`the run is complete at step ${run.steps}; raise train.steps to train further`);
  else
    console.log(
      `trained ${run.steps} steps in ${(run.trainSeconds / 60).toFixed(1)} min (${run.samplesPerSecond.toFixed(1)} images/s); stop: ${run.result.stopReason}`,
    );
  if (run.report) console.log(formatRetrieval(run.report));
  console.log(`model directory: ${run.exportDir}`);
}

/**
 * The retrieval commands for the `tessera` program: `index`, `search`, `embed` and `finetune`; apps/cli
 * mounts `createEvalRetrievalCommand()` under its `eval`, runs `trainClipTask` from `tessera
 * train`, and serves `createApp` from `tessera serve`.
 */
export function createRetrievalCommands(): Command[] {
  return [indexCommand(), searchCommand(), embedCommand(), createFinetuneCommand()];
}
