import { backendInfo, Module, parseConfig, TesseraError, tf } from '@tessera/core';
import { z } from 'zod';
import type { ContrastiveMetrics } from './contrastiveMetrics.js';
import { expectDiagonalPositives, readPositives } from './positives.js';
import { expectRank } from './tensorUtils.js';

/** Input of `clipLoss`: two batches of embeddings, the log logit scale and optional positives. */
export interface ClipLossInput {
  /** Image embeddings [N, D]. */
  imageEmbeds: tf.Tensor;
  /** Text embeddings [M, D]. */
  textEmbeds: tf.Tensor;
  /** The learnable log of the logit scale (a scalar); exp(min(logitScale, maxLogitScale)) multiplies the similarities. */
  logitScale: tf.Tensor;
  /** [N, M], 1 where image i and text j match (several captions per image); default: the diagonal. */
  positives?: tf.Tensor;
  /** Label smoothing of the targets (default 0). */
  labelSmoothing?: number;
  /** Clamp of the log scale (default ln 100, as CLIP). */
  maxLogitScale?: number;
  /** L2-normalise the embeddings first (default true). */
  normalize?: boolean;
}

/** Result of `clipLoss`: the symmetric loss, its two directions, the applied scale and in-batch metrics. */
export type ClipLossOutput = {
  /** (lossImageToText + lossTextToImage) / 2. */
  loss: tf.Scalar;
  /** Cross-entropy of each image's logits over the texts (rows of the logits). */
  lossImageToText: tf.Scalar;
  /** Cross-entropy of each text's logits over the images (columns). */
  lossTextToImage: tf.Scalar;
  /** The scale actually applied: exp of the clamped log scale. */
  logitScale: tf.Scalar;
  /** In-batch accuracy and similarities, on the unscaled similarity (values: no gradient flows through them). */
  metrics: ContrastiveMetrics;
};

/**
 * Symmetric InfoNCE of CLIP (open_clip's ClipLoss): logits = scale * img . txt^T; each image's
 * target is its positive texts (uniformly weighted), each text's its positive images.
 * The loss and its two directions are one op with an analytic gradient (with respect to the
 * embeddings and the log scale), equal to autodiff through the softmaxes; `logitScale` is
 * differentiable too. The metrics are plain values taken from the similarity on the CPU, outside
 * the differentiated graph.
 */
export function clipLoss(input: ClipLossInput): ClipLossOutput {
  expectRank(input.imageEmbeds, 2, 'clipLoss imageEmbeds');
  expectRank(input.textEmbeds, 2, 'clipLoss textEmbeds');
  const [n, dim] = input.imageEmbeds.shape as [number, number];
  const [m, textDim] = input.textEmbeds.shape as [number, number];
  if (dim !== textDim) throw new TesseraError('E_INPUT', `clipLoss: image dim ${dim} != text dim ${textDim}; project both to one size`);
  const smoothing = input.labelSmoothing ?? 0;
  const maxLogScale = input.maxLogitScale ?? Math.log(100);
  let positives: Float32Array | null = null;
  if (input.positives === undefined) expectDiagonalPositives(n, m, 'clipLoss');
  else positives = readPositives(input.positives, n, m, 'clipLoss');
  return tf.tidy(() => {
    const scale = tf.exp(tf.clipByValue(tf.reshape(input.logitScale, []), -Number.MAX_VALUE, maxLogScale)) as tf.Scalar;
    const targets = clipTargets(positives, n, m, smoothing);
    const found: { metrics?: MetricValues } = {};
    const op = tf.customGrad(((...args: [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc]) => {
      const [image, text, s, save] = args;
      return clipLossPair(image as tf.Tensor2D, text as tf.Tensor2D, s as tf.Scalar, targets, input.normalize ?? true, save, found);
    }) as unknown as Parameters<typeof tf.customGrad>[0]);
    const pair = op(input.imageEmbeds, input.textEmbeds, scale) as tf.Tensor1D;
    const [lossImageToText, lossTextToImage] = tf.unstack(pair) as [tf.Scalar, tf.Scalar];
    const metrics = found.metrics as MetricValues;
    return {
      loss: tf.mean(pair) as tf.Scalar,
      lossImageToText,
      lossTextToImage,
      logitScale: scale,
      metrics: {
        accuracyImageToText: tf.scalar(metrics.accuracyImageToText),
        accuracyTextToImage: tf.scalar(metrics.accuracyTextToImage),
        positiveSimilarity: tf.scalar(metrics.positiveSimilarity),
        negativeSimilarity: tf.scalar(metrics.negativeSimilarity),
      },
    };
  });
}

/** `ContrastiveMetrics` as numbers. */
type MetricValues = { [K in keyof ContrastiveMetrics]: number };

/**
 * The (label-smoothed) targets of both directions, row-major [N, M]: `rows[i, j]` is image i's
 * target probability of text j, `cols[i, j]` text j's of image i (the column targets already
 * transposed back to [N, M]). Null for the diagonal, whose targets are formulas.
 */
interface ClipTargets {
  n: number;
  m: number;
  smoothing: number;
  positives: Float32Array | null;
  rows: Float32Array | null;
  cols: Float32Array | null;
}

function clipTargets(positives: Float32Array | null, n: number, m: number, smoothing: number): ClipTargets {
  if (!positives) return { n, m, smoothing, positives, rows: null, cols: null };
  const rowSum = new Float64Array(n);
  const colSum = new Float64Array(m);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      const p = positives[i * m + j] as number;
      rowSum[i] += p;
      colSum[j] += p;
    }
  }
  const rows = new Float32Array(n * m);
  const cols = new Float32Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      const p = positives[i * m + j] as number;
      rows[i * m + j] = (p / (rowSum[i] as number)) * (1 - smoothing) + smoothing / m;
      cols[i * m + j] = (p / (colSum[j] as number)) * (1 - smoothing) + smoothing / n;
    }
  }
  return { n, m, smoothing, positives, rows, cols };
}

/** Whether products with transpose flags run in place (@tessera/native's gemm) rather than missing wasm's fast path. */
function transposeFlagsAreFast(): boolean {
  try {
    return backendInfo().native.active && tf.getBackend() === 'wasm';
  } catch {
    return false;
  }
}

/** a [N, D] @ b [M, D]^T. */
function productNT(a: tf.Tensor2D, b: tf.Tensor2D, flags: boolean): tf.Tensor2D {
  return flags ? tf.matMul(a, b, false, true) : tf.matMul(a, tf.transpose(b));
}

/** a [N, M]^T @ b [N, D]. */
function productTN(a: tf.Tensor2D, b: tf.Tensor2D, flags: boolean): tf.Tensor2D {
  return flags ? tf.matMul(a, b, true, false) : tf.matMul(tf.transpose(a), b);
}

const NORM_FLOOR = Math.fround(1e-24);

/** Rows over their L2 norm (floored as `l2Normalize`), with what the backward pass needs. */
function normalizeRows(x: tf.Tensor2D): { y: tf.Tensor2D; norm: tf.Tensor2D; sumMask: Float32Array | null } {
  const squares = tf.sum(tf.square(x), -1, true);
  const ss = squares.dataSync();
  const norms = new Float32Array(ss.length);
  let sumMask: Float32Array | null = null; // null: no row floored
  for (let i = 0; i < ss.length; i++) {
    const v = ss[i] as number;
    norms[i] = Math.sqrt(Math.max(v, NORM_FLOOR));
    if (!(v >= NORM_FLOOR)) {
      // tf.maximum passes no gradient to the sum of squares of a floored row.
      sumMask ??= new Float32Array(ss.length).fill(1);
      sumMask[i] = 0;
    }
  }
  squares.dispose();
  const norm = tf.tensor2d(norms, [ss.length, 1]);
  return { y: tf.div(x, norm), norm, sumMask };
}

/** The gradient through `normalizeRows`: (dy - y * sum(dy * y)) / norm, the sum zeroed on floored rows. */
function normalizeRowsGrad(dy: tf.Tensor2D, y: tf.Tensor2D, norm: tf.Tensor2D, sumMask: Float32Array | null): tf.Tensor2D {
  let along = tf.sum(tf.mul(dy, y), -1, true);
  if (sumMask) along = tf.mul(along, tf.tensor2d(sumMask, [sumMask.length, 1]));
  return tf.div(tf.sub(dy, tf.mul(y, along)), norm);
}

/**
 * Row and column maxima of sim [n, m] with their first indices (as tf.argMax on ties), and its
 * sum. The loops over typed arrays live in small functions, which V8 optimises once (written
 * inline in the loss, they ran ~3x slower).
 */
function similarityStats(sim: Float32Array, n: number, m: number) {
  const rowMax = new Float64Array(n).fill(Number.NEGATIVE_INFINITY);
  const rowArg = new Int32Array(n);
  const colMax = new Float64Array(m).fill(Number.NEGATIVE_INFINITY);
  const colArg = new Int32Array(m);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    let best = Number.NEGATIVE_INFINITY;
    let arg = 0;
    for (let j = 0; j < m; j++) {
      const v = sim[i * m + j] as number;
      if (v > best) {
        best = v;
        arg = j;
      }
      if (v > (colMax[j] as number)) {
        colMax[j] = v;
        colArg[j] = i;
      }
      sum += v;
    }
    rowMax[i] = best;
    rowArg[i] = arg;
  }
  return { rowMax, rowArg, colMax, colArg, sum };
}

/** sum(w * x) over two arrays of one length, in float64. */
function weightedSum(w: Float32Array, x: Float32Array): number {
  let sum = 0;
  for (let k = 0; k < w.length; k++) sum += (w[k] as number) * (x[k] as number);
  return sum;
}

/** Sum over rows of log-sum-exp: a row's max logit (s * its max similarity) minus log of its largest probability, exp(0) / sum. */
function sumLogSumExp(maxSimilarity: Float64Array, topProbability: Float32Array, s: number): number {
  let lse = 0;
  for (let i = 0; i < maxSimilarity.length; i++)
    lse += Math.fround((maxSimilarity[i] as number) * s) - Math.log(topProbability[i] as number);
  return lse;
}

/** a R + b C [n, m]: what the targets take off the gradient a P + b Q^T. */
function targetShift(a: number, b: number, targets: ClipTargets): Float32Array {
  const { n, m, smoothing, rows, cols } = targets;
  const out = new Float32Array(n * m);
  if (rows && cols) {
    for (let k = 0; k < n * m; k++) out[k] = a * (rows[k] as number) + b * (cols[k] as number);
    return out;
  }
  // The diagonal: R = (1 - eps) I + eps / m, C = (1 - eps) I + eps / n.
  const off = (a * smoothing) / m + (b * smoothing) / n;
  if (off !== 0) out.fill(off);
  for (let i = 0; i < n; i++) out[i * m + i] = off + (a + b) * (1 - smoothing);
  return out;
}

/**
 * The forward of `clipLoss` as one op: [lossImageToText, lossTextToImage] of embeddings
 * [N, D], [M, D] and the (clamped) scale s, with the analytic gradient. For logits
 * L = s * In Tn^T (In, Tn the normalised embeddings), row softmax P (over texts), column
 * softmax Q (over images, [M, N]) and targets R, C ([N, M], C transposed back):
 * lossImageToText = mean_i(lse_i(L)) - sum(R * L) / N, lossTextToImage likewise over columns;
 * G = dL = dy0 (P - R) / N + dy1 (Q^T - C) / M, dIn = s G Tn, dTn = s G^T In,
 * ds = sum(G * In Tn^T), then back through the normalisation. The softmaxes are kept from the
 * forward. The log-sum-exps, the targets' sums and the metrics are taken on the CPU in float64
 * from the similarity and each softmax row's largest value (one pass over N x M values, instead
 * of the ~40 small kernels of the autodiff formulation).
 */
function clipLossPair(
  image: tf.Tensor2D,
  text: tf.Tensor2D,
  scale: tf.Scalar,
  targets: ClipTargets,
  normalize: boolean,
  save: tf.GradSaveFunc,
  found: { metrics?: MetricValues },
): { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[] } {
  const { n, m, smoothing, positives } = targets;
  const flags = transposeFlagsAreFast();
  const img = normalize ? normalizeRows(image) : { y: image, norm: null, sumMask: null };
  const txt = normalize ? normalizeRows(text) : { y: text, norm: null, sumMask: null };
  const similarity = productNT(img.y, txt.y, flags);
  const logits = tf.mul(similarity, scale);
  const rowSoftmax = tf.softmax(logits);
  const colSoftmax = tf.softmax(tf.transpose(logits));
  const s = scale.dataSync()[0] as number;
  const sim = similarity.dataSync() as Float32Array;
  const rowTop = tf.max(rowSoftmax, 1);
  const colTop = tf.max(colSoftmax, 1);
  const stats = similarityStats(sim, n, m);
  let rowTargetDot: number; // sum(R * sim)
  let colTargetDot: number; // sum(C * sim)
  let positiveSum: number;
  let positiveCount: number;
  if (targets.rows && targets.cols && positives) {
    rowTargetDot = weightedSum(targets.rows, sim);
    colTargetDot = weightedSum(targets.cols, sim);
    positiveSum = weightedSum(positives, sim);
    positiveCount = weightedSum(positives, positives);
  } else {
    let trace = 0;
    for (let i = 0; i < n; i++) trace += sim[i * m + i] as number;
    positiveSum = trace;
    positiveCount = n;
    rowTargetDot = (1 - smoothing) * trace + (smoothing / m) * stats.sum;
    colTargetDot = (1 - smoothing) * trace + (smoothing / n) * stats.sum;
  }
  const rowLse = sumLogSumExp(stats.rowMax, rowTop.dataSync() as Float32Array, s);
  const colLse = sumLogSumExp(stats.colMax, colTop.dataSync() as Float32Array, s);

  const { rowArg, colArg } = stats;
  let hitsImageToText = 0;
  for (let i = 0; i < n; i++) hitsImageToText += positives ? (positives[i * m + (rowArg[i] as number)] as number) : rowArg[i] === i ? 1 : 0;
  let hitsTextToImage = 0;
  for (let j = 0; j < m; j++) hitsTextToImage += positives ? (positives[(colArg[j] as number) * m + j] as number) : colArg[j] === j ? 1 : 0;
  found.metrics = {
    accuracyImageToText: hitsImageToText / n,
    accuracyTextToImage: hitsTextToImage / m,
    positiveSimilarity: positiveSum / Math.max(positiveCount, 1),
    negativeSimilarity: (stats.sum - positiveSum) / Math.max(n * m - positiveCount, 1),
  };

  const value = tf.tensor1d([rowLse / n - (s * rowTargetDot) / n, colLse / m - (s * colTargetDot) / m]);
  save([img.y, txt.y, similarity, rowSoftmax, colSoftmax, ...(img.norm && txt.norm ? [img.norm, txt.norm] : [])]);
  return {
    value,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [yi, yt, sm, p, q, ni, nt] = saved as [
        tf.Tensor2D,
        tf.Tensor2D,
        tf.Tensor2D,
        tf.Tensor2D,
        tf.Tensor2D,
        tf.Tensor2D?,
        tf.Tensor2D?,
      ];
      const [d0, d1] = dy.dataSync() as unknown as [number, number];
      const [a, b] = [d0 / n, d1 / m];
      const g = tf.sub(tf.add(tf.mul(p, a), tf.mul(tf.transpose(q), b)), tf.tensor2d(targetShift(a, b, targets), [n, m])) as tf.Tensor2D;
      const dScale = tf.sum(tf.mul(g, sm));
      const dSim = tf.mul(g, s) as tf.Tensor2D;
      let dImage = tf.matMul(dSim, yt) as tf.Tensor2D;
      let dText = productTN(dSim, yi, flags);
      if (ni && nt) {
        dImage = normalizeRowsGrad(dImage, yi, ni, img.sumMask);
        dText = normalizeRowsGrad(dText, yt, nt, txt.sumMask);
      }
      return [dImage, dText, dScale];
    },
  };
}

/**
 * Zod schema (strict) of `ClipLoss`'s config, defaults as CLIP/open_clip: initial log scale
 * ln(1/0.07), clamp ln 100, learnable scale, no label smoothing, L2-normalised embeddings.
 */
export const clipLossConfigSchema = z
  .object({
    /** Initial log scale: ln(1/0.07), CLIP's temperature 0.07. */
    initLogitScale: z.number().default(Math.log(1 / 0.07)),
    maxLogitScale: z.number().default(Math.log(100)),
    /** false freezes the scale at its initial value. */
    learnableScale: z.boolean().default(true),
    labelSmoothing: z.number().min(0).lt(1).default(0),
    normalize: z.boolean().default(true),
  })
  .strict();
/** `ClipLoss`'s config as written (every field optional); a bad or unknown field throws E_CONFIG. */
export type ClipLossConfig = z.input<typeof clipLossConfigSchema>;

/** CLIP's contrastive loss with its learnable logit scale as the parameter `logit_scale`. */
export class ClipLoss extends Module {
  readonly config: z.infer<typeof clipLossConfigSchema>;
  readonly logitScale: tf.Variable;

  constructor(config: ClipLossConfig = {}) {
    super();
    this.config = parseConfig(clipLossConfigSchema, config, 'ClipLoss config');
    this.logitScale = this.addParameter('logit_scale', tf.scalar(this.config.initLogitScale), {
      trainable: this.config.learnableScale,
    });
  }

  /**
   * Clamps the stored log scale to [0, maxLogitScale] in place; call after each optimizer step,
   * as open_clip does. The forward clamp alone gives a zero gradient above the bound, so a scale
   * that overshot would never come back down.
   */
  clampLogitScale(): void {
    tf.tidy(() => this.logitScale.assign(tf.clipByValue(this.logitScale, 0, this.config.maxLogitScale)));
  }

  /**
   * `clipLoss` of image embeddings [N, D] and text embeddings [M, D] with this module's scale and
   * config; `positives` [N, M] marks matching pairs (default the diagonal, which needs N == M).
   */
  forward(imageEmbeds: tf.Tensor, textEmbeds: tf.Tensor, positives?: tf.Tensor): ClipLossOutput {
    return clipLoss({
      imageEmbeds,
      textEmbeds,
      positives,
      logitScale: this.logitScale,
      labelSmoothing: this.config.labelSmoothing,
      maxLogitScale: this.config.maxLogitScale,
      normalize: this.config.normalize,
    });
  }
}
