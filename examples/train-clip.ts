// Train a tiny CLIP on a folder of captioned images: each image `x.png` (or .jpg) has its
// caption in `x.txt` beside it. Writes a manifest, trains a tokenizer on the captions, trains
// the model and exports a model folder that `search-images.ts` and `tessera search` can load.
// Usage: tsx train-clip.ts <image-dir> <out-dir> [steps]
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { initBackend } from '@tessera/core';
import { type ManifestRow, writeManifest } from '@tessera/data';
import { trainClip } from '@tessera/retrieval';

const [imageDir, outDir, steps = '30'] = process.argv.slice(2);
if (!imageDir || !outDir) {
  console.error('usage: train-clip.ts <image-dir> <out-dir> [steps]');
  process.exit(2);
}

const rows: ManifestRow[] = [];
for (const file of (await readdir(imageDir)).filter((f) => /\.(png|jpe?g)$/i.test(f)).sort()) {
  const caption = await readFile(path.join(imageDir, file.replace(/\.\w+$/, '.txt')), 'utf8').catch(() => '');
  if (caption.trim()) rows.push({ image: path.resolve(imageDir, file), captions: [{ text: caption.trim(), lang: 'en' }] });
}
const manifest = path.join(outDir, 'manifest.jsonl');
await writeManifest(manifest, rows);
console.log(`${rows.length} captioned images`);

await initBackend();
const run = await trainClip(
  {
    // About 35k parameters: learns in seconds on a CPU. A preset name ('clip-tiny') works too.
    model: {
      type: 'clip',
      embedDim: 16,
      vision: { imageSize: 16, patchSize: 8, dim: 32, numHeads: 2, numLayers: 1 },
      text: { vocabSize: 1, maxPositions: 16, dim: 32, numHeads: 2, numLayers: 1, pooling: 'mean' }, // vocab from the tokenizer
    },
    data: { train: manifest, maxTextLength: 16, augment: false },
    train: { lr: 3e-3, steps: Number(steps), batchSize: rows.length, outputDir: path.join(outDir, 'run') },
  },
  { progress: false },
);

const { losses } = run.result;
console.log(
  `loss ${losses[0]?.toFixed(4)} -> ${losses.at(-1)?.toFixed(4)} over ${losses.length} steps (chance: ln(${rows.length}) = ${Math.log(rows.length).toFixed(4)})`,
);
console.log(`model folder: ${run.exportDir}`);
