import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { SeededRandom, TesseraError, tf, writeFileAtomic } from '@tessera/core';
import { EpochSource, readManifest } from '@tessera/data';
import { DualEncoder, FusionModel, ImageClassifier, loadModel } from '@tessera/models';
import { ImageProcessor } from '@tessera/patches';
import { type TrainConfigInput, Trainer } from '@tessera/train';
import { preparePairs } from './pairs.js';

export interface FinetuneOptions {
  checkpoint: string;
  /** Training manifest; each row's `labelKey` field (e.g. `category`) is its class. */
  data: string;
  /** Held-out manifest for accuracy (optional). */
  eval?: string;
  labelKey: string;
  outputDir: string;
  train: Omit<TrainConfigInput, 'outputDir'>;
  /** Train only the head (linear probe). */
  freezeEncoder?: boolean;
  progress?: boolean;
}

interface LabelledBatch {
  images: tf.Tensor4D;
  labels: tf.Tensor1D;
  size: number;
}

/**
 * Seeded epochs over pre-processed images with their class ids; the last short batch is kept.
 * `keepAlive` is the trainer's accumulation: a step holds that many micro-batches at once.
 */
function labelledSource(
  pixels: Float32Array[],
  labels: number[],
  shape: [number, number, number],
  o: { batchSize: number; seed: number; keepAlive: number },
) {
  const plane = shape[0] * shape[1] * shape[2];
  return new EpochSource<LabelledBatch>({
    samples: pixels.length,
    batchSize: o.batchSize,
    seed: o.seed,
    keepAlive: o.keepAlive,
    build: (idx) => {
      const data = new Float32Array(idx.length * plane);
      for (const [i, k] of idx.entries()) data.set(pixels[k] as Float32Array, i * plane);
      return {
        images: tf.tensor4d(data, [idx.length, ...shape]),
        labels: tf.tensor1d(
          Int32Array.from(idx, (k) => labels[k] as number),
          'int32',
        ),
        size: idx.length,
      };
    },
  });
}

async function labelledImages(file: string, labelKey: string, processor: ImageProcessor, classes: string[] | null) {
  const manifest = await readManifest(file);
  const withLabel = manifest.records.filter((r) => r.meta[labelKey] !== undefined && r.meta[labelKey] !== null);
  if (withLabel.length === 0)
    throw new TesseraError('E_DATA', `${file}: no row has a '${labelKey}' field; pick --label-key from the manifest's columns`);
  const names = classes ?? [...new Set(withLabel.map((r) => String(r.meta[labelKey])))].sort();
  const known = withLabel.filter((r) => names.includes(String(r.meta[labelKey])));
  const { pairs } = await preparePairs(known, null, 2);
  const byKey = new Map(known.map((r) => [r.key, r]));
  return {
    classes: names,
    pixels: pairs.map((p) => processor.toFloat(processor.transform(p.image))),
    labels: pairs.map((p) => names.indexOf(String(byKey.get(p.key)?.meta[labelKey]))),
  };
}

/**
 * Fine-tunes the vision tower of a trained model with a [CLS] classification head on a
 * labelled manifest (e.g. emoji `category`), and reports accuracy on `eval`.
 */
export async function finetuneClassifier(o: FinetuneOptions): Promise<{ classes: string[]; accuracy: number | null; outputDir: string }> {
  const loaded = await loadModel(o.checkpoint);
  const vision = loaded.model instanceof DualEncoder || loaded.model instanceof FusionModel ? loaded.model.vision_model : null;
  if (!vision) throw new TesseraError('E_CONFIG', `${o.checkpoint}: no vision tower to fine-tune`);
  const processor = loaded.processor ?? new ImageProcessor();
  const [h, w] = processor.outputSize;
  const train = await labelledImages(o.data, o.labelKey, processor, null);
  if (train.classes.length < 2)
    throw new TesseraError('E_DATA', `'${o.labelKey}' has ${train.classes.length} distinct value(s); classification needs at least 2`);
  const classifier = new ImageClassifier({
    vision,
    numClasses: train.classes.length,
    freezeEncoder: o.freezeEncoder,
    rng: new SeededRandom(o.train.seed ?? 0),
  });
  const source = labelledSource(train.pixels, train.labels, [3, h, w], {
    batchSize: o.train.batchSize,
    seed: o.train.seed ?? 0,
    keepAlive: o.train.accumulation ?? 1,
  });
  const trainer = new Trainer<LabelledBatch>({
    model: classifier,
    config: { ...o.train, outputDir: o.outputDir },
    source,
    batchesPerEpoch: source.batchesPerEpoch,
    batchSize: (b) => b.size,
    loss: (b) => {
      const out = classifier.loss(b.images, b.labels);
      return { loss: out.loss, metrics: { accuracy: out.accuracy } };
    },
    progress: o.progress ?? true,
  });
  try {
    await trainer.fit();
  } finally {
    trainer.dispose();
    source.dispose();
  }
  let accuracy: number | null = null;
  if (o.eval) {
    const test = await labelledImages(o.eval, o.labelKey, processor, train.classes);
    classifier.eval();
    let correct = 0;
    for (let start = 0; start < test.pixels.length; start += 256) {
      const px = test.pixels.slice(start, start + 256);
      const data = new Float32Array(px.length * 3 * h * w);
      for (const [i, p] of px.entries()) data.set(p, i * p.length);
      const images = tf.tensor4d(data, [px.length, 3, h, w]);
      const pred = tf.tidy(() => tf.argMax(classifier.forward(images), 1));
      pred.dataSync().forEach((v, i) => {
        if (v === test.labels[start + i]) correct += 1;
      });
      tf.dispose([images, pred]);
    }
    accuracy = correct / test.pixels.length;
  }
  await mkdir(o.outputDir, { recursive: true });
  await classifier.save(path.join(o.outputDir, 'classifier.safetensors'));
  await writeFileAtomic(
    path.join(o.outputDir, 'classes.json'),
    `${JSON.stringify({ labelKey: o.labelKey, classes: train.classes, accuracy }, null, 2)}\n`,
  );
  classifier.dispose();
  return { classes: train.classes, accuracy, outputDir: o.outputDir };
}
