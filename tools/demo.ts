/**
 * `npm run demo`: the main job end to end. Builds the emoji text-image pairs (English and
 * Chinese captions) into ./data/emoji, trains a tiny CLIP for a few minutes
 * (datasets/emoji/clip-tiny.yaml; `npm run demo -- --budget.minutes 10` for longer), prints
 * R@1/5/10 on the held-out Twitter drawing style in both languages, and leaves the model
 * directory in ./runs/demo/model for the retrieval app (`loadModel('runs/demo/model')`).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend, progress } from '@tessera/core';
import { readManifest } from '@tessera/data';
import { buildEmojiDataset } from '@tessera/dataset-emoji';
import { loadModel } from '@tessera/models';
import { formatRetrieval, loadRunConfig, preparePairs, trainClip, zeroShotAccuracy } from '@tessera/retrieval';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const configFile = path.join(root, 'datasets/emoji/clip-tiny.yaml');

const started = performance.now();
const info = await initBackend();
console.log(`backend: ${info.name}${info.native.active ? ` + native kernels (${info.native.blas})` : ''}`);

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

const config = await loadRunConfig(configFile, process.argv.slice(2));
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
console.log(
  `\nmodel directory: ${path.relative(root, run.exportDir)} (reload with loadModel); metrics: ${path.relative(root, run.result.metricsFile)}`,
);
console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB; total ${minutes.toFixed(1)} min`);
