import { Module, matMul, patchify, type SeededRandom, TesseraError, tf } from '@tessera/core';
import { interpolateGrid } from './interpolateGrid.js';
import { sincos2d } from './sinCosTable.js';

/**
 * Options of PatchEmbedding. E_CONFIG unless the sizes are positive integers and both image
 * sides are divisible by `patchSize`.
 */
export interface PatchEmbeddingOptions {
  /** Input image size: one number for square images, or [height, width]. */
  imageSize: number | [number, number];
  /** Side P of the square, non-overlapping patches, in pixels. */
  patchSize: number;
  /** Image channels (default 3). */
  channels?: number;
  /** Embedding width. */
  dim: number;
  /** Prepend a learned class token (default true). */
  classToken?: boolean;
  /** 'learned' (default, trainable) or fixed 2-D 'sincos' (MAE), not trainable. */
  positionEmbedding?: 'learned' | 'sincos';
  /** The projection has a bias (default true, as ViT); CLIP's patch conv has none. */
  patchBias?: boolean;
  /** Initialises weights: truncated normal, std 0.02, as Hugging Face ViT. */
  rng: SeededRandom;
}

/** Options of `PatchEmbedding.forward`. */
export interface PatchEmbeddingForwardOptions {
  /**
   * Accept images of another size than `imageSize`, resampling the position embeddings to the
   * new grid (Hugging Face `interpolate_pos_encoding`). Without it a size mismatch is an error.
   */
  interpolatePositionEncoding?: boolean;
}

/** Holds the patch projection as `projection.weight` / `projection.bias`, Hugging Face ViT names. */
class PatchProjection extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | null;
  constructor(dim: number, channels: number, patch: number, bias: boolean, rng: SeededRandom) {
    super();
    const fan = channels * patch * patch;
    this.weight = this.addParameter(
      'weight',
      tf.tensor4d(
        rng.array(dim * fan, (r) => r.truncatedNormal(0, 0.02)),
        [dim, channels, patch, patch],
      ),
    );
    this.bias = bias ? this.addParameter('bias', tf.zeros([dim])) : null;
  }
}

/**
 * ViT patch embedding: non-overlapping P x P patches projected to `dim`, an optional class
 * token, plus position embeddings. Output `[B, N (+1), dim]` with N = (H/P)(W/P), row-major.
 *
 * The projection is a conv2d with stride P written as `patchify` + matMul, so it matches
 * `nn.Conv2d(C, dim, P, stride=P)` with the same weights and trains on wasm (which lacks the
 * conv2d filter gradient). Parameter names follow Hugging Face ViT: `projection.weight`
 * [dim, C, P, P], `projection.bias`, `cls_token` [1, 1, dim], `position_embeddings` [1, N(+1), dim].
 */
export class PatchEmbedding extends Module {
  readonly imageSize: [number, number];
  readonly patchSize: number;
  readonly channels: number;
  readonly dim: number;
  readonly hasClassToken: boolean;
  readonly positionEmbeddingKind: 'learned' | 'sincos';
  readonly projection: PatchProjection;
  readonly clsToken: tf.Variable | null;
  readonly positionEmbeddings: tf.Variable;

  constructor(options: PatchEmbeddingOptions) {
    super();
    const size: [number, number] = typeof options.imageSize === 'number' ? [options.imageSize, options.imageSize] : options.imageSize;
    const { patchSize, dim } = options;
    this.channels = options.channels ?? 3;
    this.hasClassToken = options.classToken ?? true;
    this.positionEmbeddingKind = options.positionEmbedding ?? 'learned';
    const positive = (v: number) => Number.isInteger(v) && v > 0;
    if (![...size, patchSize, dim, this.channels].every(positive)) {
      throw new TesseraError('E_CONFIG', `PatchEmbedding: imageSize, patchSize, channels and dim must be positive integers`, {
        details: { imageSize: options.imageSize, patchSize, channels: this.channels, dim },
      });
    }
    if (size[0] % patchSize !== 0 || size[1] % patchSize !== 0) {
      throw new TesseraError('E_CONFIG', `PatchEmbedding: image size ${size[0]}x${size[1]} is not divisible by patch size ${patchSize}`);
    }
    this.imageSize = size;
    this.patchSize = patchSize;
    this.dim = dim;
    const { rng } = options;
    this.projection = this.addModule('projection', new PatchProjection(dim, this.channels, patchSize, options.patchBias ?? true, rng));
    const extra = this.hasClassToken ? 1 : 0;
    this.clsToken = this.hasClassToken
      ? this.addParameter(
          'cls_token',
          tf.tensor3d(
            rng.array(dim, (r) => r.truncatedNormal(0, 0.02)),
            [1, 1, dim],
          ),
          { decay: false },
        )
      : null;
    const [gh, gw] = this.gridSize;
    const total = (gh * gw + extra) * dim;
    const initial =
      this.positionEmbeddingKind === 'sincos'
        ? withClassRow(sincos2d(dim, gh, gw), dim, extra)
        : rng.array(total, (r) => r.truncatedNormal(0, 0.02));
    this.positionEmbeddings = this.addParameter('position_embeddings', tf.tensor3d(initial, [1, gh * gw + extra, dim]), {
      trainable: this.positionEmbeddingKind === 'learned',
      decay: false,
    });
  }

  /** Patches per side: [rows, columns]. */
  get gridSize(): [number, number] {
    return [this.imageSize[0] / this.patchSize, this.imageSize[1] / this.patchSize];
  }

  /** Patch tokens per image, without the class token. */
  get numPatches(): number {
    const [gh, gw] = this.gridSize;
    return gh * gw;
  }

  /**
   * Position embeddings for a `[rows, cols]` patch grid, `[1, rows*cols (+1), dim]`: the stored
   * ones when the grid matches; otherwise learned ones resampled bicubically (as PyTorch's
   * `interpolate(mode='bicubic', align_corners=False)`, differentiable) and sin-cos ones
   * recomputed for the new grid. The class-token row is kept as is.
   */
  interpolatePositionEmbeddings(grid: [number, number]): tf.Tensor3D {
    const [gh, gw] = this.gridSize;
    const extra = this.hasClassToken ? 1 : 0;
    return tf.tidy(() => {
      if (grid[0] === gh && grid[1] === gw) return tf.clone(this.positionEmbeddings) as tf.Tensor3D;
      const n = grid[0] * grid[1];
      const patches =
        this.positionEmbeddingKind === 'sincos'
          ? tf.tensor3d(sincos2d(this.dim, grid[0], grid[1]), [1, n, this.dim])
          : interpolateGrid(tf.slice(this.positionEmbeddings, [0, extra, 0], [1, gh * gw, this.dim]) as tf.Tensor3D, [gh, gw], grid);
      if (!extra) return patches;
      return tf.concat([tf.slice(this.positionEmbeddings, [0, 0, 0], [1, 1, this.dim]), patches], 1) as tf.Tensor3D;
    });
  }

  /** Embeds images NCHW `[B, C, H, W]` into tokens `[B, N (+1 class token first), dim]`. */
  forward(images: tf.Tensor4D, options: PatchEmbeddingForwardOptions = {}): tf.Tensor3D {
    const [b, c, h, w] = images.shape;
    const p = this.patchSize;
    if (images.rank !== 4 || c !== this.channels) {
      throw new TesseraError(
        'E_INPUT',
        `PatchEmbedding expects images [B, ${this.channels}, H, W] (NCHW), got [${images.shape.join(', ')}]`,
      );
    }
    const sameSize = h === this.imageSize[0] && w === this.imageSize[1];
    if (!sameSize && !options.interpolatePositionEncoding) {
      throw new TesseraError(
        'E_INPUT',
        `PatchEmbedding was built for ${this.imageSize[0]}x${this.imageSize[1]} images, got ${h}x${w}: resize the input or pass { interpolatePositionEncoding: true }`,
      );
    }
    if (h % p !== 0 || w % p !== 0) {
      throw new TesseraError('E_INPUT', `PatchEmbedding: image ${h}x${w} is not divisible by patch size ${p}; resize or crop first`);
    }
    return tf.tidy(() => {
      const patches = patchify(images, p);
      // W [dim, C, P, P] -> [C*P*P, dim], transposed explicitly: the flagged matMul is slow on wasm.
      const kernel = tf.transpose(tf.reshape(this.projection.weight, [this.dim, c * p * p]));
      let tokens = matMul(patches, kernel) as tf.Tensor3D;
      if (this.projection.bias) tokens = tf.add(tokens, this.projection.bias);
      if (this.clsToken) tokens = tf.concat([tf.tile(this.clsToken, [b, 1, 1]), tokens], 1) as tf.Tensor3D;
      const positions: tf.Tensor = sameSize ? this.positionEmbeddings : this.interpolatePositionEmbeddings([h / p, w / p]);
      return tf.add(tokens, positions) as tf.Tensor3D;
    });
  }
}

/** Prepends `extra` (0 or 1) all-zero rows for the class token, as MAE does for sin-cos. */
function withClassRow(values: Float32Array, dim: number, extra: number): Float32Array {
  if (!extra) return values;
  const out = new Float32Array(values.length + dim);
  out.set(values, dim);
  return out;
}
