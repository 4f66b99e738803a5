import { tf } from '@tessera/core';

/**
 * In-batch metrics of a contrastive objective: mean similarity over positive pairs and over
 * negative pairs, and argmax accuracy both ways. (Retrieval over a whole eval set, R@K and
 * ranks, is @tessera/eval's `retrievalMetrics`.)
 */
export function contrastiveMetrics(similarity: tf.Tensor2D, positives: tf.Tensor2D): ContrastiveMetrics {
  return tf.tidy(() => {
    const negatives = tf.sub(1, positives);
    const hit = (sim: tf.Tensor2D, pos: tf.Tensor2D) =>
      tf.mean(tf.sum(tf.mul(tf.oneHot(tf.argMax(sim, 1) as tf.Tensor1D, sim.shape[1]), pos), 1)) as tf.Scalar;
    return {
      accuracyImageToText: hit(similarity, positives),
      accuracyTextToImage: hit(tf.transpose(similarity), tf.transpose(positives)),
      positiveSimilarity: tf.div(tf.sum(tf.mul(similarity, positives)), tf.maximum(tf.sum(positives), 1)) as tf.Scalar,
      negativeSimilarity: tf.div(tf.sum(tf.mul(similarity, negatives)), tf.maximum(tf.sum(negatives), 1)) as tf.Scalar,
    };
  });
}

/** What a user watches while training a contrastive objective. */
export type ContrastiveMetrics = {
  /** Fraction of images whose most similar text is a positive. */
  accuracyImageToText: tf.Scalar;
  /** Fraction of texts whose most similar image is a positive. */
  accuracyTextToImage: tf.Scalar;
  /** Mean similarity (cosine for normalised embeddings) of matching pairs. */
  positiveSimilarity: tf.Scalar;
  /** Mean similarity of non-matching pairs. */
  negativeSimilarity: tf.Scalar;
};
