import { tf } from '@tessera/core';
import type { ImageProcessor, RgbImage } from '@tessera/patches';
import type { ContrastiveEncoder } from './zeroShot.js';

/**
 * Image embeddings [N, D] of a contrastive model: each decoded image goes through the
 * processor's inference preprocessing, `chunk` images per forward pass; the caller disposes.
 */
export function embedImages(model: ContrastiveEncoder, processor: ImageProcessor, images: readonly RgbImage[], chunk = 256): tf.Tensor2D {
  const [h, w] = processor.outputSize;
  const plane = 3 * h * w;
  const parts: tf.Tensor2D[] = [];
  for (let start = 0; start < images.length; start += chunk) {
    const slice = images.slice(start, start + chunk);
    const data = new Float32Array(slice.length * plane);
    for (const [i, image] of slice.entries())
      processor.toFloat(processor.transform(image), 'channels_first', data.subarray(i * plane, (i + 1) * plane));
    const batch = tf.tensor4d(data, [slice.length, 3, h, w]);
    parts.push(model.encodeImage(batch));
    batch.dispose();
  }
  if (parts.length === 1) return parts[0] as tf.Tensor2D;
  const all = tf.concat(parts, 0) as tf.Tensor2D;
  tf.dispose(parts);
  return all;
}
