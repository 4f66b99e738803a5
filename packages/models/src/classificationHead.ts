import { Module, type SeededRandom, TesseraError, tf } from '@tessera/core';
import { type TokenCrossEntropyOutput, tokenCrossEntropy } from '@tessera/objectives';
import { Dropout, Linear, type VisionEncoder } from '@tessera/transformer';

/** Options of `ClassificationHead`: a numClasses that is not an integer >= 2 is E_CONFIG. */
export interface ClassificationHeadOptions {
  /** Width of the pooled ([CLS]) features. */
  inFeatures: number;
  numClasses: number;
  /** Dropout probability on the features before the linear layer, in training mode (default 0). */
  dropout?: number;
  /** Seeds the dense weights (normal, std 0.02) and the dropout masks. */
  rng: SeededRandom;
}

/** Linear classifier on pooled features: logits [B, numClasses]; softmax gives probabilities. */
export class ClassificationHead extends Module {
  readonly dense: Linear;
  readonly numClasses: number;
  private readonly drop: Dropout;

  constructor(o: ClassificationHeadOptions) {
    super();
    if (!(Number.isInteger(o.numClasses) && o.numClasses >= 2)) {
      throw new TesseraError('E_CONFIG', `ClassificationHead: numClasses must be an integer >= 2, got ${o.numClasses}`);
    }
    this.numClasses = o.numClasses;
    this.drop = this.addModule('dropout', new Dropout({ p: o.dropout ?? 0, rng: o.rng.fork('dropout') }));
    this.dense = this.addModule(
      'dense',
      new Linear({ inFeatures: o.inFeatures, outFeatures: o.numClasses, init: 'normal', std: 0.02, rng: o.rng.fork('dense') }),
    );
  }

  /** Logits [B, numClasses] of pooled features [B, inFeatures] (dropout applied in training mode only). */
  forward(features: tf.Tensor): tf.Tensor2D {
    return tf.tidy(() => this.dense.forward(this.drop.forward(features)) as tf.Tensor2D);
  }

  /** Class probabilities [B, numClasses]. */
  predict(features: tf.Tensor): tf.Tensor2D {
    return tf.tidy(() => tf.softmax(this.forward(features)) as tf.Tensor2D);
  }
}

/**
 * Fine-tuning for image classification: a (pretrained) vision tower's pooled [CLS] features
 * through a ClassificationHead. Names `vision_model.*`, `classifier.dense.*`. Set
 * `freezeEncoder` for a linear probe (only the head's parameters are trainable).
 */
export class ImageClassifier extends Module {
  readonly vision_model: VisionEncoder;
  readonly classifier: ClassificationHead;

  constructor(o: { vision: VisionEncoder; numClasses: number; dropout?: number; freezeEncoder?: boolean; rng: SeededRandom }) {
    super();
    this.vision_model = this.addModule('vision_model', o.vision);
    this.classifier = this.addModule(
      'classifier',
      new ClassificationHead({ inFeatures: o.vision.config.dim, numClasses: o.numClasses, dropout: o.dropout, rng: o.rng }),
    );
    if (o.freezeEncoder) {
      // Same info objects as the module holds: the trainer and the optimizer skip them.
      for (const info of o.vision.namedParameters().values()) {
        info.trainable = false;
        info.variable.trainable = false;
      }
    }
  }

  /** Logits [B, numClasses] of images NCHW. */
  forward(images: tf.Tensor): tf.Tensor2D {
    return tf.tidy(() => this.classifier.forward(this.vision_model.forward(images).pooled));
  }

  /** Cross-entropy and accuracy on images with int32 labels [B]. */
  loss(images: tf.Tensor, labels: tf.Tensor): TokenCrossEntropyOutput {
    return tf.tidy(
      () => tokenCrossEntropy(this.forward(images), labels) as unknown as tf.TensorContainer,
    ) as unknown as TokenCrossEntropyOutput;
  }
}
