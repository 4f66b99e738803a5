import { type SeededRandom, TesseraError, tf } from '@tessera/core';

/** Result of `randomPatchMasking`: MAE's `ids_keep`, `ids_restore` and `mask`. */
export type PatchMasking = {
  /** [B, K] int32: the patches each image keeps, in random order (K = floor(N * (1 - ratio))). */
  idsKeep: tf.Tensor2D;
  /** [B, N] int32: position of each patch in the shuffled order; unshuffles decoder tokens. */
  idsRestore: tf.Tensor2D;
  /** [B, N] float32: 1 where a patch is masked (hidden from the encoder), 0 where kept. */
  mask: tf.Tensor2D;
};

/**
 * MAE's per-image random masking (He et al. 2022, `random_masking`): shuffle the patches by
 * random noise, keep the first floor(N * (1 - ratio)), mask the rest. Seeded.
 */
export function randomPatchMasking(batch: number, numPatches: number, maskRatio: number, rng: SeededRandom): PatchMasking {
  if (!(maskRatio >= 0 && maskRatio < 1)) {
    throw new TesseraError('E_INPUT', `randomPatchMasking: maskRatio must be in [0, 1), got ${maskRatio}`);
  }
  if (!Number.isInteger(batch) || !Number.isInteger(numPatches) || batch < 1 || numPatches < 1) {
    throw new TesseraError('E_INPUT', `randomPatchMasking: batch and numPatches must be positive integers, got ${batch}, ${numPatches}`);
  }
  const keep = Math.floor(numPatches * (1 - maskRatio));
  if (keep < 1) throw new TesseraError('E_INPUT', `randomPatchMasking: ratio ${maskRatio} keeps no patch of ${numPatches}`);
  const idsKeep = new Int32Array(batch * keep);
  const idsRestore = new Int32Array(batch * numPatches);
  const mask = new Float32Array(batch * numPatches).fill(1);
  for (let b = 0; b < batch; b++) {
    const order = rng.permutation(numPatches);
    order.forEach((patch, rank) => {
      idsRestore[b * numPatches + patch] = rank;
      if (rank < keep) {
        idsKeep[b * keep + rank] = patch;
        mask[b * numPatches + patch] = 0;
      }
    });
  }
  return {
    idsKeep: tf.tensor2d(idsKeep, [batch, keep], 'int32'),
    idsRestore: tf.tensor2d(idsRestore, [batch, numPatches], 'int32'),
    mask: tf.tensor2d(mask, [batch, numPatches], 'float32'),
  };
}

/**
 * Picks rows per batch item: out[b, k] = x[b, ids[b, k]] for x [B, N, D] and ids [B, K].
 * Flattened into one gather on axis 0, whose gradient wasm supports (via core's scatter-add).
 */
export function gatherPatches(x: tf.Tensor3D, ids: tf.Tensor2D): tf.Tensor3D {
  const [b, n, d] = x.shape;
  if (ids.shape[0] !== b) throw new TesseraError('E_INPUT', `gatherPatches: ids batch ${ids.shape[0]} != tokens batch ${b}`);
  const k = ids.shape[1];
  return tf.tidy(() => {
    const offsets = tf.mul(tf.reshape(tf.range(0, b, 1, 'int32'), [b, 1]), tf.scalar(n, 'int32'));
    const flat = tf.reshape(tf.add(ids, offsets), [-1]) as tf.Tensor1D;
    return tf.reshape(tf.gather(tf.reshape(x, [b * n, d]), flat, 0), [b, k, d]) as tf.Tensor3D;
  });
}
