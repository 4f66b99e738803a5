import { type SeededRandom, TesseraError, tf } from '@tessera/core';
import { l2Normalize } from './tensorUtils.js';

/**
 * A fixed-size FIFO of past (momentum) features [size, dim] with one id per row, as ALBEF's
 * image/text queues: more negatives than the batch holds. Starts with random unit vectors and
 * id -1 (matching nothing); `enqueue` overwrites the oldest rows, wrapping around.
 */
export class FeatureQueue {
  readonly size: number;
  readonly dim: number;
  private features: tf.Variable;
  private readonly idValues: Int32Array;
  private pointer = 0;

  constructor(size: number, dim: number, rng: SeededRandom) {
    if (!(Number.isInteger(size) && size > 0 && Number.isInteger(dim) && dim > 0)) {
      throw new TesseraError('E_CONFIG', `FeatureQueue size and dim must be positive integers, got ${size}, ${dim}`);
    }
    this.size = size;
    this.dim = dim;
    this.features = tf.tidy(() =>
      tf.variable(
        l2Normalize(
          tf.tensor2d(
            rng.array(size * dim, (r) => r.normal()),
            [size, dim],
          ),
        ),
        false,
      ),
    );
    this.idValues = new Int32Array(size).fill(-1);
  }

  /** The stored features [size, dim] (the queue's own tensor: do not dispose). */
  get value(): tf.Tensor2D {
    return this.features as tf.Tensor2D;
  }

  /** A copy of the stored ids, int32 [size]. */
  ids(): tf.Tensor1D {
    return tf.tensor1d(this.idValues, 'int32');
  }

  /** Writes a batch [B, dim] (and its ids) over the oldest rows. */
  enqueue(batch: tf.Tensor, ids?: ArrayLike<number>): void {
    if (batch.rank !== 2 || batch.shape[1] !== this.dim) {
      throw new TesseraError('E_INPUT', `FeatureQueue.enqueue: expected [B, ${this.dim}], got [${batch.shape.join(', ')}]`);
    }
    const b = batch.shape[0] as number;
    if (ids && ids.length !== b) throw new TesseraError('E_INPUT', `FeatureQueue.enqueue: ${ids.length} ids for ${b} features`);
    // Row r of the new queue takes either the old row r or batch item j: one gather over [old; batch].
    const source = Int32Array.from({ length: this.size }, (_, r) => r);
    const start = Math.max(0, b - this.size); // a batch larger than the queue keeps its last rows
    for (let j = start; j < b; j++) {
      const row = (this.pointer + j - start) % this.size;
      source[row] = this.size + j;
      this.idValues[row] = ids ? (ids[j] as number) : -1;
    }
    tf.tidy(() => {
      const stacked = tf.concat([this.features, batch], 0);
      this.features.assign(tf.gather(stacked, tf.tensor1d(source, 'int32')));
    });
    this.pointer = (this.pointer + b - start) % this.size;
  }

  /** Frees the stored features; the queue cannot be used afterwards. */
  dispose(): void {
    this.features.dispose();
  }
}
