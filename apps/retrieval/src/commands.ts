import path from 'node:path';
import { initBackend, TesseraError } from '@tessera/core';
import { readManifest } from '@tessera/data';
import { openStore } from '@tessera/index';
import { Command } from 'commander';
import { Embedder } from './embedder.js';
import { listImages } from './imageSource.js';
import { indexImages } from './indexImages.js';
import { rankCaptions } from './rankCaptions.js';
import { RetrievalService } from './retrievalService.js';
import { writeSidecar } from './storeRoots.js';

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
    .option('--json', 'print the report as JSON', false)
    .addHelpText('after', '\nExample:\n  tessera index --checkpoint runs/demo/model --images data/emoji/test.jsonl --store emoji.tsv')
    .action(
      async (o: {
        checkpoint: string;
        images: string;
        store: string;
        kind: string;
        batchSize: number;
        flushEvery: number;
        json: boolean;
      }) => {
        if (o.kind !== 'exact' && o.kind !== 'lance')
          throw new TesseraError('E_CONFIG', `--kind must be 'exact' or 'lance', got '${o.kind}'`);
        await initBackend();
        const embedder = await Embedder.load(o.checkpoint);
        const listing = await listImages(o.images);
        const store = await openStore(o.store, { create: { kind: o.kind, modelId: embedder.modelId, dim: embedder.dim } });
        try {
          // Recorded first, so a server started mid-run already knows where images may come from.
          await writeSidecar(o.store, { roots: [listing.root], checkpoint: path.resolve(o.checkpoint) });
          const report = await indexImages({
            embedder,
            store,
            listing,
            batchSize: o.batchSize,
            flushIntervalMs: o.flushEvery * 1000,
            showProgress: !o.json,
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

/**
 * The retrieval commands for the `tessera` program: `index` and `search`. `tessera serve`
 * (apps/cli) mounts `createApp` next to the captioning route.
 */
export function createRetrievalCommands(): Command[] {
  return [indexCommand(), searchCommand()];
}
