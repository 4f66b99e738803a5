import { TesseraError } from '@tessera/base';
import { tf } from '../tf.js';

/**
 * Cuts images [B, C, H, W] into non-overlapping P x P patches [B, N, C*P*P], row-major over
 * the patch grid, each patch flattened as (channel, row, column) like a conv2d weight
 * [D, C, P, P]. So `matMul(patchify(x), W.reshape([D, -1]).T)` equals conv2d with stride P,
 * and trains on wasm, which lacks conv2d's filter gradient. Uses only 4-D transposes
 * (higher-rank transposes are slow on wasm).
 */
export function patchify(images: tf.Tensor4D, patch: number): tf.Tensor3D {
  const [b, c, h, w] = images.shape;
  if (h % patch !== 0 || w % patch !== 0) {
    throw new TesseraError('E_INPUT', `patchify: image ${h}x${w} is not divisible by patch size ${patch}; resize or crop first`);
  }
  const gh = h / patch;
  const gw = w / patch;
  return tf.tidy(() => {
    const rows = tf.transpose(tf.reshape(images, [b * c * gh, patch, gw, patch]), [0, 2, 1, 3]);
    const grouped = tf.transpose(tf.reshape(rows, [b, c, gh * gw, patch * patch]), [0, 2, 1, 3]);
    return tf.reshape(grouped, [b, gh * gw, c * patch * patch]);
  });
}

/** The exact inverse of `patchify`. */
export function unpatchify(patches: tf.Tensor3D, patch: number, channels: number, height: number, width: number): tf.Tensor4D {
  const [b, n, d] = patches.shape;
  const gh = height / patch;
  const gw = width / patch;
  if (!Number.isInteger(gh) || !Number.isInteger(gw) || gh * gw !== n || d !== channels * patch * patch) {
    throw new TesseraError(
      'E_INPUT',
      `unpatchify: [${b}, ${n}, ${d}] patches do not tile a ${channels}x${height}x${width} image with patch ${patch}`,
    );
  }
  return tf.tidy(() => {
    const grouped = tf.transpose(tf.reshape(patches, [b, n, channels, patch * patch]), [0, 2, 1, 3]);
    const rows = tf.transpose(tf.reshape(grouped, [b * channels * gh, gw, patch, patch]), [0, 2, 1, 3]);
    return tf.reshape(rows, [b, channels, height, width]);
  });
}
