import { combineLosses, Module, matMul, type SeededRandom, TesseraError, tf } from '@tessera/core';
import { clipLoss, ItmHead, itmLabels, itmLoss, l2Normalize, maskTokenTensor, mlmLoss, sampleHardNegatives } from '@tessera/objectives';
import { FusionEncoder, Linear, type TextEncoder, type VisionEncoder } from '@tessera/transformer';

/**
 * Options of `FusionModel`: the towers, the fusion encoder (`fusionLayers` layers with
 * `fusionHeads` heads at the text width, cross-attending to the image tokens), the width of the
 * contrastive space and the loss settings; the defaults are ALBEF's. A causal text tower is E_CONFIG.
 */
export interface FusionModelOptions {
  vision: VisionEncoder;
  /** A bidirectional text encoder; its token states feed the fusion encoder. */
  text: TextEncoder;
  embedDim: number;
  fusionLayers: number;
  fusionHeads: number;
  fusionMlpDim?: number;
  initLogitScale?: number;
  maxLogitScale?: number;
  /** Weights of the ITC, ITM and MLM losses in `loss` (ALBEF: 1 each). */
  lossWeights?: { itc?: number; itm?: number; mlm?: number };
  /** Fraction of tokens predicted by MLM (BERT: 0.15). */
  maskProbability?: number;
  rng: SeededRandom;
}

/** One ALBEF step's inputs: B matching image-caption pairs. */
export interface FusionBatch {
  images: tf.Tensor;
  ids: tf.Tensor;
  mask: tf.Tensor;
  /** Token ids MLM must never mask: [CLS], [SEP], [PAD], [UNK]... */
  specialTokenIds: number[];
  maskTokenId: number;
}

/** The three losses, their weighted sum, and accuracies to watch. */
export interface FusionOutput {
  loss: tf.Scalar;
  itc: tf.Scalar;
  itm: tf.Scalar;
  mlm: tf.Scalar;
  itmAccuracy: tf.Scalar;
  mlmAccuracy: tf.Scalar;
}

/**
 * ALBEF (Li et al. 2021) without the momentum model: image-text contrastive loss on projected
 * [CLS] features, image-text matching on the fusion encoder's [CLS] with hard negatives drawn
 * from the contrastive similarities, and masked language modelling conditioned on the image.
 * Names: `vision_model`, `text_model`, `fusion`, `vision_proj`, `text_proj`, `logit_scale`,
 * `itm_head`, `mlm_head`.
 */
export class FusionModel extends Module {
  readonly vision_model: VisionEncoder;
  readonly text_model: TextEncoder;
  readonly fusion: FusionEncoder;
  readonly vision_proj: Linear;
  readonly text_proj: Linear;
  readonly logit_scale: tf.Variable;
  readonly itm_head: ItmHead;
  readonly mlm_head: Linear;
  readonly maxLogitScale: number;
  readonly lossWeights: { itc: number; itm: number; mlm: number };
  readonly maskProbability: number;

  constructor(o: FusionModelOptions) {
    super();
    if (o.text.config.causal)
      throw new TesseraError('E_CONFIG', 'FusionModel: the text encoder must be bidirectional (text.causal: false) for MLM');
    const textDim = o.text.config.dim;
    this.vision_model = this.addModule('vision_model', o.vision);
    this.text_model = this.addModule('text_model', o.text);
    this.fusion = this.addModule(
      'fusion',
      new FusionEncoder({
        dim: textDim,
        numHeads: o.fusionHeads,
        numLayers: o.fusionLayers,
        mlpDim: o.fusionMlpDim,
        crossDim: o.vision.config.dim,
        norm: 'pre',
        rng: o.rng.fork('fusion'),
      }),
    );
    this.vision_proj = this.addModule(
      'vision_proj',
      new Linear({ inFeatures: o.vision.config.dim, outFeatures: o.embedDim, rng: o.rng.fork('vision_proj') }),
    );
    this.text_proj = this.addModule(
      'text_proj',
      new Linear({ inFeatures: textDim, outFeatures: o.embedDim, rng: o.rng.fork('text_proj') }),
    );
    this.logit_scale = this.addParameter('logit_scale', tf.scalar(o.initLogitScale ?? Math.log(1 / 0.07)), { decay: false });
    this.itm_head = this.addModule('itm_head', new ItmHead({ hiddenSize: textDim, rng: o.rng.fork('itm_head') }));
    this.mlm_head = this.addModule(
      'mlm_head',
      new Linear({ inFeatures: textDim, outFeatures: o.text.config.vocabSize, rng: o.rng.fork('mlm_head') }),
    );
    this.maxLogitScale = o.maxLogitScale ?? Math.log(100);
    this.lossWeights = { itc: o.lossWeights?.itc ?? 1, itm: o.lossWeights?.itm ?? 1, mlm: o.lossWeights?.mlm ?? 1 };
    this.maskProbability = o.maskProbability ?? 0.15;
  }

  /** Unit-length image embeddings [B, embedDim] (for retrieval, as the dual encoder's). */
  encodeImage(images: tf.Tensor): tf.Tensor2D {
    return tf.tidy(() => l2Normalize(this.vision_proj.forward(this.vision_model.forward(images).pooled)) as tf.Tensor2D);
  }

  /** Unit-length text embeddings [T, embedDim]. */
  encodeText(ids: tf.Tensor, mask?: tf.Tensor): tf.Tensor2D {
    return tf.tidy(() => l2Normalize(this.text_proj.forward(this.text_model.forward(ids, mask).pooled)) as tf.Tensor2D);
  }

  /** Match logits [B, 2] (class 1 = match) of aligned image i / text i pairs, for re-ranking. */
  matchLogits(images: tf.Tensor, ids: tf.Tensor, mask: tf.Tensor): tf.Tensor2D {
    return tf.tidy(() => {
      const image = this.vision_model.forward(images).hidden;
      const text = this.text_model.forward(ids, mask).hidden;
      return this.itm_head.forward(this.fusion.forward({ text, textMask: mask, image }).pooled) as tf.Tensor2D;
    });
  }

  /** ITC + ITM + MLM on a batch; `rng` draws hard negatives and MLM masks. */
  forward(batch: FusionBatch, rng: SeededRandom): FusionOutput {
    const [b] = batch.ids.shape as [number, number];
    if (batch.images.shape[0] !== b) {
      throw new TesseraError('E_INPUT', `FusionModel: ${batch.images.shape[0]} images but ${b} captions; give one caption per image`);
    }
    if (b < 2) throw new TesseraError('E_INPUT', 'FusionModel: a batch needs at least 2 pairs (ITM draws negatives from the batch)');
    return tf.tidy(() => {
      const vision = this.vision_model.forward(batch.images);
      const text = this.text_model.forward(batch.ids, batch.mask);
      const imageEmbeds = this.vision_proj.forward(vision.pooled);
      const textEmbeds = this.text_proj.forward(text.pooled);
      const itc = clipLoss({ imageEmbeds, textEmbeds, logitScale: this.logit_scale, maxLogitScale: this.maxLogitScale });

      // ITM: B positives, B (hard-negative image, text), B (image, hard-negative text).
      const similarity = matMul(l2Normalize(imageEmbeds), l2Normalize(textEmbeds), false, true);
      const negatives = sampleHardNegatives(similarity, rng);
      const imageIdx = tf.tensor1d(
        Int32Array.from([...Array.from({ length: b }, (_, i) => i), ...negatives.imageForText, ...Array.from({ length: b }, (_, i) => i)]),
        'int32',
      );
      const textIdx = tf.tensor1d(
        Int32Array.from([...Array.from({ length: b }, (_, i) => i), ...Array.from({ length: b }, (_, i) => i), ...negatives.textForImage]),
        'int32',
      );
      const fused = this.fusion.forward({
        text: tf.gather(text.hidden, textIdx),
        textMask: tf.gather(batch.mask, textIdx),
        image: tf.gather(vision.hidden, imageIdx),
      });
      const itm = itmLoss(this.itm_head.forward(fused.pooled), itmLabels(b));

      // MLM: predict masked tokens from the text and the image.
      const masked = maskTokenTensor(
        batch.ids as tf.Tensor2D,
        {
          maskTokenId: batch.maskTokenId,
          vocabSize: this.text_model.config.vocabSize,
          specialTokenIds: batch.specialTokenIds,
          maskProbability: this.maskProbability,
        },
        rng,
      );
      const maskedText = this.text_model.forward(masked.inputIds, batch.mask).hidden;
      const mlmStates = this.fusion.forward({ text: maskedText, textMask: batch.mask, image: vision.hidden }).hidden;
      const mlm = mlmLoss({ logits: this.mlm_head.forward(mlmStates), labels: masked.labels });

      const { loss } = combineLosses({ itc: itc.loss, itm: itm.loss, mlm: mlm.loss }, this.lossWeights, 'model.lossWeights');
      return { loss, itc: itc.loss, itm: itm.loss, mlm: mlm.loss, itmAccuracy: itm.accuracy, mlmAccuracy: mlm.accuracy };
    });
  }
}
