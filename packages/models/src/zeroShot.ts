import { matMul, TesseraError, tf } from '@tessera/core';
import type { Tokenizer } from '@tessera/tokenizer';
import { textTensors } from './textBatch.js';

/** Anything with CLIP-style unit-length encoders (DualEncoder, FusionModel). */
export interface ContrastiveEncoder {
  /** Unit-length embeddings [B, D] of normalized images [B, 3, H, W]. */
  encodeImage(images: tf.Tensor): tf.Tensor2D;
  /** Unit-length embeddings [T, D] of int32 token ids [T, S], with mask [T, S] (1 = token, 0 = padding). */
  encodeText(ids: tf.Tensor, mask?: tf.Tensor): tf.Tensor2D;
}

/** Options of `ZeroShotClassifier`: fewer than 2 class names, or a template without `{}`, is E_CONFIG. */
export interface ZeroShotOptions {
  model: ContrastiveEncoder;
  tokenizer: Tokenizer;
  classNames: readonly string[];
  /** Prompt templates with `{}` for the class name, averaged per class (CLIP's prompt ensembling). Default ['{}']. */
  templates?: readonly string[];
  /** Prompts longer than this many tokens are cut, keeping the closing special token (default 64). */
  maxLength?: number;
}

/**
 * Zero-shot classification (Radford et al. 2021): each class is the normalized mean of the
 * text embeddings of its prompts; an image's class is the most similar one.
 */
export class ZeroShotClassifier {
  readonly classNames: readonly string[];
  /** [numClasses, embedDim] unit-length class embeddings. */
  readonly classEmbeddings: tf.Tensor2D;
  private readonly model: ContrastiveEncoder;

  constructor(o: ZeroShotOptions) {
    if (o.classNames.length < 2) throw new TesseraError('E_CONFIG', 'ZeroShotClassifier: give at least 2 class names');
    const templates = o.templates ?? ['{}'];
    if (templates.length === 0 || templates.some((t) => !t.includes('{}'))) {
      throw new TesseraError('E_CONFIG', "ZeroShotClassifier: every template needs a '{}' where the class name goes, e.g. 'a photo of {}'");
    }
    this.model = o.model;
    this.classNames = o.classNames;
    const prompts = o.classNames.flatMap((name) => templates.map((t) => t.replaceAll('{}', name)));
    const { ids, mask } = textTensors(o.tokenizer, prompts, o.maxLength ?? 64);
    this.classEmbeddings = tf.tidy(() => {
      const embeds = tf.reshape(o.model.encodeText(ids, mask), [o.classNames.length, templates.length, -1]);
      const mean = tf.mean(embeds, 1);
      return tf.div(mean, tf.norm(mean, 'euclidean', 1, true)) as tf.Tensor2D;
    });
    ids.dispose();
    mask.dispose();
  }

  /** Class probabilities [B, numClasses] (softmax of 100 x cosine, as CLIP) of images NCHW. */
  probabilities(images: tf.Tensor, scale = 100): tf.Tensor2D {
    return tf.tidy(
      () => tf.softmax(tf.mul(matMul(this.model.encodeImage(images), this.classEmbeddings, false, true), scale)) as tf.Tensor2D,
    );
  }

  /** The most likely class name of each image. */
  classify(images: tf.Tensor): string[] {
    const probs = this.probabilities(images);
    const best = tf.tidy(() => tf.argMax(probs, 1));
    const idx = Array.from(best.dataSync());
    tf.dispose([probs, best]);
    return idx.map((i) => this.classNames[i] as string);
  }

  /** Frees `classEmbeddings` (not the model); the classifier cannot be used afterwards. */
  dispose(): void {
    this.classEmbeddings.dispose();
  }
}
