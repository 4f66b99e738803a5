/**
 * An ALBEF-style pretraining step on a toy task, through @tessera/transformer's FusionEncoder:
 * contrastive (with a positives mask for repeated classes) + ITM on seeded hard negatives +
 * image-conditioned MLM, summed by CombinedObjective. The text alone cannot tell whether it
 * matches an image, so high ITM accuracy shows the objectives train the cross-attention path.
 */
import { initBackend, Module, matMul, SeededRandom, tf } from '@tessera/core';
import { FusionEncoder, Linear } from '@tessera/transformer';
import { beforeAll, describe, expect, it } from 'vitest';
import { ClipLoss, CombinedObjective, ItmHead, itmLabels, MaskedLanguageModeling, sampleHardNegatives } from '../src/index.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

// Vocabulary: 0 [PAD], 1 [CLS], 2 [SEP], 3 [MASK], 4..7 one word per class, 8..11 filler words.
const CLASSES = 4;
const VOCAB = 12;
const DIM = 16;
const IMAGE_TOKENS = 4;
const IMAGE_DIM = 8;

class ToyAlbef extends Module {
  readonly embeddings: tf.Variable;
  readonly fusion: FusionEncoder;
  readonly imageProj: Linear;
  readonly mlmHead: Linear;
  readonly itmHead: ItmHead;
  readonly contrastive: ClipLoss;

  constructor(rng: SeededRandom) {
    super();
    this.embeddings = this.addParameter(
      'embeddings',
      tf.tensor2d(
        rng.array(VOCAB * DIM, (r) => r.normal(0, 0.5)),
        [VOCAB, DIM],
      ),
    );
    this.fusion = this.addModule(
      'fusion',
      new FusionEncoder({ dim: DIM, numHeads: 2, numLayers: 2, crossDim: IMAGE_DIM, norm: 'pre', rng: rng.fork('fusion') }),
    );
    this.imageProj = this.addModule('image_proj', new Linear({ inFeatures: IMAGE_DIM, outFeatures: DIM, rng: rng.fork('proj') }));
    this.mlmHead = this.addModule('mlm_head', new Linear({ inFeatures: DIM, outFeatures: VOCAB, rng: rng.fork('mlm') }));
    this.itmHead = this.addModule('itm_head', new ItmHead({ hiddenSize: DIM, rng: rng.fork('itm') }));
    this.contrastive = this.addModule('itc', new ClipLoss({ initLogitScale: Math.log(10) }));
  }

  embed(ids: tf.Tensor): tf.Tensor {
    return tf.gather(this.embeddings, ids);
  }
}

function makeBatch(rng: SeededRandom, prototypes: Float32Array, batch: number) {
  const classes = Array.from({ length: batch }, () => rng.int(CLASSES));
  const ids = new Int32Array(batch * 4);
  classes.forEach((c, b) => {
    ids.set([1, 4 + c, 8 + rng.int(4), 2], b * 4);
  });
  const image = new Float32Array(batch * IMAGE_TOKENS * IMAGE_DIM);
  classes.forEach((c, b) => {
    for (let k = 0; k < IMAGE_TOKENS * IMAGE_DIM; k++) {
      image[b * IMAGE_TOKENS * IMAGE_DIM + k] = (prototypes[c * IMAGE_TOKENS * IMAGE_DIM + k] as number) + rng.normal(0, 0.1);
    }
  });
  const positives = tf.tensor2d(
    classes.flatMap((ci) => classes.map((cj) => (ci === cj ? 1 : 0))),
    [batch, batch],
  );
  return { classes, ids, image: tf.tensor3d(image, [batch, IMAGE_TOKENS, IMAGE_DIM]), positives };
}

describe('ALBEF-style step: ITC + ITM (hard negatives) + image-conditioned MLM', () => {
  it('every part trains, and ITM learns to tell matching pairs apart through the image', () => {
    const rng = new SeededRandom(100);
    const model = new ToyAlbef(rng.fork('model'));
    const objective = new CombinedObjective({ weights: { itc: 1, itm: 1, mlm: 1 } });
    const mlm = new MaskedLanguageModeling({ maskTokenId: 3, vocabSize: VOCAB, specialTokenIds: [0, 1, 2, 3] });
    const prototypes = rng.array(CLASSES * IMAGE_TOKENS * IMAGE_DIM, (r) => r.normal());
    const optimizer = tf.train.adam(0.005);
    const batch = 8;
    const history: Record<string, number>[] = [];

    const step = () => {
      const data = makeBatch(rng, prototypes, batch);
      const ids = tf.tensor2d(data.ids, [batch, 4], 'int32');
      const masked = mlm.mask(ids, rng);
      const record: Record<string, number> = {};
      optimizer.minimize(() => {
        const imageTokens = data.image;
        const text = model.embed(ids);
        // ITC on mean-pooled image tokens and text embeddings; same-class pairs are positives.
        const imageEmbeds = model.imageProj.forward(tf.mean(imageTokens, 1));
        const itc = model.contrastive.forward(imageEmbeds, tf.mean(text, 1), data.positives);
        // ITM: B positives, then hard negatives drawn from the ITC similarities.
        const negatives = sampleHardNegatives(matMul(imageEmbeds, tf.mean(text, 1), false, true), rng, data.positives);
        const negImages = tf.gather(imageTokens, tf.tensor1d(negatives.imageForText, 'int32'));
        const negTexts = tf.gather(text, tf.tensor1d(negatives.textForImage, 'int32'));
        const fusedCls = model.fusion.forward({
          text: tf.concat([text, text, negTexts], 0),
          image: tf.concat([imageTokens, negImages, imageTokens], 0),
        }).pooled;
        const itm = model.itmHead.loss(fusedCls, itmLabels(batch));
        // MLM: the masked text attends to its own image.
        const hidden = model.fusion.forward({ text: model.embed(masked.inputIds), image: imageTokens }).hidden;
        const mlmOut = mlm.loss(model.mlmHead.forward(hidden), masked.labels);
        const out = objective.forward({ itc: itc.loss, itm: itm.loss, mlm: mlmOut.loss });
        for (const [k, v] of Object.entries(out.parts)) record[k] = v.dataSync()[0] as number;
        record.itmAccuracy = itm.accuracy.dataSync()[0] as number;
        return out.loss;
      });
      tf.dispose([ids, masked.inputIds, masked.labels, data.image, data.positives]);
      history.push(record);
    };

    const steps = 300;
    const start = tf.memory().numTensors;
    for (let i = 0; i < steps; i++) step();
    const optimizerState = tf.memory().numTensors - start; // Adam's moments, created on the first step
    step();
    expect(tf.memory().numTensors - start).toBe(optimizerState);
    const mean = (rows: Record<string, number>[], key: string) => rows.reduce((s, r) => s + (r[key] as number), 0) / rows.length;
    const first = history.slice(0, 5);
    const last = history.slice(-40);
    const summary = Object.fromEntries(['itc', 'itm', 'mlm', 'itmAccuracy'].map((k) => [k, [mean(first, k), mean(last, k)]]));
    console.log(`ALBEF toy, mean of first 5 / last 40 of ${steps + 1} steps: ${JSON.stringify(summary)}`);
    for (const part of ['itc', 'itm', 'mlm']) expect(mean(last, part), part).toBeLessThan(mean(first, part) * 0.8);
    // 1/3 of ITM pairs match, so "never a match" scores 0.67; the text alone cannot do better.
    expect(mean(last, 'itmAccuracy')).toBeGreaterThan(0.8);
    // One token per sentence is predicted: the class word (recoverable only from the image) or a
    // random filler. Without the image the best MLM loss is about 0.9 * ln 4 = 1.25 (10 % are kept).
    expect(mean(last, 'mlm')).toBeLessThan(1.0);
    optimizer.dispose();
    model.dispose();
  }, 180_000); // 300 steps: seconds with native kernels, about a minute on plain wasm (TESSERA_NATIVE=0)
});
