/**
 * `npm run demo`: the main job end to end. Builds the emoji text-image pairs (English and
 * Chinese captions) into ./data/emoji, trains a tiny CLIP for a few minutes
 * (datasets/emoji/clip-tiny.yaml; `npm run demo -- --budget.minutes 10` for longer), prints
 * R@1/5/10 on the held-out Twitter drawing style in both languages, and leaves the model
 * directory in ./runs/demo/model for the retrieval app (`loadModel('runs/demo/model')`), and a
 * contact sheet of searches in both languages (runs/demo/contact-sheet.html and .png).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend, progress } from '@tessera/core';
import { readManifest } from '@tessera/data';
import { buildEmojiDataset } from '@tessera/dataset-emoji';
import { loadModel } from '@tessera/models';
import {
  contactSheetQueries,
  Embedder,
  formatRetrieval,
  loadRunConfig,
  preparePairs,
  trainClip,
  writeContactSheet,
  zeroShotAccuracy,
} from '@tessera/retrieval';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const configFile = path.join(root, 'datasets/emoji/clip-tiny.yaml');

const started = performance.now();
// The config (and any --key value overrides) is checked before the data is built.
const config = await loadRunConfig(configFile, process.argv.slice(2));
const info = await initBackend({ threads: config.backend.threads });
console.log(
  `backend: ${info.name}${info.native.active ? ` + native kernels (${info.native.blas}, ${info.threads} thread${info.threads === 1 ? '' : 's'})` : ''}`,
);

let bar: ReturnType<typeof progress> | null = null;
const data = await buildEmojiDataset({
  outDir: path.join(root, 'data/emoji'),
  onProgress: (done, total) => {
    bar ??= progress({ label: 'emoji data', total, unit: 'image' });
    bar.tick(1);
    if (done === total) bar.stop();
  },
});
console.log(
  `data: ${data.splits.train.count} training pairs (Google style), ${data.splits.test.count} test pairs (Twitter style)${data.reused ? ', reused' : ''} in ${path.relative(root, data.outDir)}`,
);

const run = await trainClip(config, { baseDir: path.dirname(configFile) });
const minutes = (performance.now() - started) / 60000;
console.log(
  `\ntrained ${run.steps} steps (${run.parameters.toLocaleString('en-US')} parameters) in ${(run.trainSeconds / 60).toFixed(1)} min, ${run.samplesPerSecond.toFixed(0)} images/s`,
);
console.log(
  `retrieval on the held-out Twitter style (${data.splits.test.count} images; chance R@1 ${(100 / data.splits.test.count).toFixed(2)} %):`,
);
if (run.report) console.log(formatRetrieval(run.report));

// Zero-shot: concepts never seen in training, each image classified among all their labels.
const trained = await loadModel(run.exportDir);
if (trained.tokenizer && trained.processor) {
  const { tokenizer, processor } = trained;
  const maxLength = config.data.maxTextLength;
  const { pairs } = await preparePairs((await readManifest(data.splits.zeroshot.manifest)).records, tokenizer, maxLength);
  const scores = ['en', 'zh'].map((lang) => {
    const zs = zeroShotAccuracy({ model: trained.model, tokenizer, processor, pairs, lang, maxLength });
    return `${lang} ${(100 * zs.accuracy).toFixed(1)} %`;
  });
  console.log(`zero-shot top-1 on ${pairs.length} held-out concepts (chance ${(100 / pairs.length).toFixed(1)} %): ${scores.join(', ')}`);
}
trained.model.dispose();

// Contact sheet: what the search returns on the held-out Twitter images for five concepts, asked in both languages.
const SHEET = [
  ['red heart', '红心'],
  ['dog face', '狗脸'],
  ['pizza', '披萨'],
  ['rocket', '火箭'],
  ['rainbow', '彩虹'],
];
const testRecords = (await readManifest(data.splits.test.manifest)).records;
const queries = contactSheetQueries(testRecords, [
  ...SHEET.map(([en]) => ({ text: en as string, lang: 'en' })),
  ...SHEET.map(([, zh]) => ({ text: zh as string, lang: 'zh' })),
]);
const embedder = await Embedder.load(run.exportDir);
const sheet = await writeContactSheet({
  embedder,
  manifest: data.splits.test.manifest,
  queries,
  outDir: path.resolve(path.dirname(configFile), config.train.outputDir),
  title: `Text-to-image search, held-out Twitter style: top 5 of ${data.splits.test.count} images; green: the query's emoji`,
});
embedder.dispose();
const found = sheet.rows.map((r) => `${r.query.text} ${r.hits.filter((h) => h.correct).length}/${r.hits.length}`).join(', ');
console.log(`contact sheet (${found}): ${path.relative(root, sheet.html)}, ${path.relative(root, sheet.png)}`);
console.log(
  `\nmodel directory: ${path.relative(root, run.exportDir)} (reload with loadModel); metrics: ${path.relative(root, run.result.metricsFile)}`,
);
console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB; total ${minutes.toFixed(1)} min`);
