/**
 * The raw addon interface. Offsets are byte offsets into `heap` (the tfjs wasm heap's
 * ArrayBuffer, fetched afresh for every call); counts are elements; every call is
 * synchronous and bounds-checked (a bad offset throws instead of writing out of bounds).
 */
export interface NativeAddon {
  /** 'openblas' when built against OpenBLAS, 'plain' for the built-in blocked kernel. */
  readonly blas: 'openblas' | 'plain';
  /** Whether exp/log/tanh run on glibc's vector math library (libmvec). */
  readonly vectorMath: boolean;
  /** `batch` products C_i = op(A_i) @ op(B_i) of float32 [m,k]x[k,n]; strides in elements, 0 broadcasts. */
  gemm(
    heap: ArrayBuffer,
    batch: number,
    m: number,
    n: number,
    k: number,
    transA: number,
    transB: number,
    aOffset: number,
    aStride: number,
    bOffset: number,
    bStride: number,
    cOffset: number,
  ): void;
  /** out[o, i] = op over r of x[o, r, i] (op: see `ReduceOp`). */
  reduce(heap: ArrayBuffer, op: number, xOffset: number, outOffset: number, outer: number, r: number, inner: number): void;
  /** out[i] = op(x[i]) (op: see `UnaryOp`). */
  unary(heap: ArrayBuffer, op: number, xOffset: number, outOffset: number, n: number): void;
  /** out = a op b over `layout` = [rank, ...shape, ...aStrides, ...bStrides] (op: see `BinaryOp`). */
  binary(heap: ArrayBuffer, op: number, aOffset: number, bOffset: number, outOffset: number, layout: Float64Array): void;
  /** Softmax (log = 1: log-softmax) over the last axis of [rows, cols]. */
  softmax(heap: ArrayBuffer, xOffset: number, outOffset: number, rows: number, cols: number, log: number): void;
  /** Contiguous out of `layout` = [rank, ...outShape, ...sourceStrides]; 4-byte elements. */
  transpose(heap: ArrayBuffer, xOffset: number, outOffset: number, layout: Float64Array): void;
  /** out[o, j, :] = x[o, ids[j], :] for int32 ids; throws on an id outside [0, rows). 4-byte elements. */
  gather(
    heap: ArrayBuffer,
    xOffset: number,
    idsOffset: number,
    outOffset: number,
    outer: number,
    rows: number,
    inner: number,
    count: number,
  ): void;
  /** out = zeros([segments, width]); out[ids[r]] += x[r] (ids outside [0, segments) dropped). */
  scatterAdd(heap: ArrayBuffer, xOffset: number, idsOffset: number, outOffset: number, rows: number, width: number, segments: number): void;
  /**
   * Multi-head attention forward: q [batch, sq, heads * headDim], k and v [batch, sk, heads * headDim]
   * (heads side by side) -> out [batch, sq, heads * headDim] = softmax(scale q_h k_h^T + bias) v_h per head,
   * the bias -1e9 where the float32 mask [batch, sk] is 0 (maskOffset -1: none) and, with causal = 1,
   * where key j > (sk - sq) + query i.
   */
  attention(
    heap: ArrayBuffer,
    qOffset: number,
    kOffset: number,
    vOffset: number,
    maskOffset: number,
    outOffset: number,
    batch: number,
    sq: number,
    sk: number,
    heads: number,
    headDim: number,
    scale: number,
    causal: number,
  ): void;
  /** Layer norm over the last axis of [rows, cols]; writes y, and each row's mean and 1/std (for the backward). */
  layerNorm(
    heap: ArrayBuffer,
    xOffset: number,
    gammaOffset: number,
    betaOffset: number,
    yOffset: number,
    meanOffset: number,
    rstdOffset: number,
    rows: number,
    cols: number,
    eps: number,
  ): void;
  /** Layer norm backward: dx, and dgamma/dbeta summed over rows. */
  layerNormGrad(
    heap: ArrayBuffer,
    dyOffset: number,
    xOffset: number,
    gammaOffset: number,
    meanOffset: number,
    rstdOffset: number,
    dxOffset: number,
    dgammaOffset: number,
    dbetaOffset: number,
    rows: number,
    cols: number,
  ): void;
  /**
   * A linear layer for x [rows, in], W [out, in]: z = x W^T + bias (biasOffset -1: none), y = act(z) with
   * activation 0 linear (y may be z), 1 gelu, 2 gelu tanh, 3 relu, 4 quick gelu; z is what linearGrad needs.
   */
  linear(
    heap: ArrayBuffer,
    xOffset: number,
    wOffset: number,
    biasOffset: number,
    zOffset: number,
    yOffset: number,
    rows: number,
    inFeatures: number,
    outFeatures: number,
    activation: number,
  ): void;
  /** Backward of linear: dz = dy * act'(z), dx = dz W, dw = dz^T x, db = column sums of dz (dbOffset -1: none). */
  linearGrad(
    heap: ArrayBuffer,
    dyOffset: number,
    xOffset: number,
    wOffset: number,
    zOffset: number,
    dxOffset: number,
    dwOffset: number,
    dbOffset: number,
    rows: number,
    inFeatures: number,
    outFeatures: number,
    activation: number,
  ): void;
  /** GELU: exact x Phi(x) (approximate = 0) or the tanh approximation (1). */
  gelu(heap: ArrayBuffer, xOffset: number, yOffset: number, n: number, approximate: number): void;
  /** dx = dy * gelu'(x). */
  geluGrad(heap: ArrayBuffer, dyOffset: number, xOffset: number, dxOffset: number, n: number, approximate: number): void;
  /**
   * Softmax cross-entropy of [rows, cols] logits against int32 labels (label smoothing; labels
   * outside [0, cols) are ignored). Writes each row's log-sum-exp; returns [mean loss, counted rows].
   */
  crossEntropy(
    heap: ArrayBuffer,
    logitsOffset: number,
    labelsOffset: number,
    lseOffset: number,
    rows: number,
    cols: number,
    smoothing: number,
  ): [number, number];
  /** dlogits = scale * (softmax - smoothed one-hot), 0 on ignored rows. */
  crossEntropyGrad(
    heap: ArrayBuffer,
    logitsOffset: number,
    labelsOffset: number,
    lseOffset: number,
    dlogitsOffset: number,
    rows: number,
    cols: number,
    smoothing: number,
    scale: number,
  ): void;
  /**
   * One Adam/AdamW step (all float32 [n]): m and v updated in place, out = p - lr * (mhat / (sqrt(vhat) + eps) + decay * p)
   * (out may be p), bias corrections c1 = 1 - beta1^t, c2 = 1 - beta2^t.
   */
  adam(
    heap: ArrayBuffer,
    pOffset: number,
    outOffset: number,
    gOffset: number,
    mOffset: number,
    vOffset: number,
    n: number,
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    decay: number,
    c1: number,
    c2: number,
  ): void;
  /** Threads of the kernels' own pool, which both builds use (OpenBLAS itself stays pinned to one thread). */
  setThreads(threads: number): void;
  /** The kernels' thread count, as last set by `setThreads` (1 until then). */
  getThreads(): number;
  /**
   * The op codes `reduce`, `unary` and `binary` take, attached by `loadNative`, so callers
   * reach them through the addon they loaded and never import this package statically.
   */
  readonly ops: { readonly reduce: typeof ReduceOp; readonly unary: typeof UnaryOp; readonly binary: typeof BinaryOp };
}

/** Op codes of `NativeAddon.reduce`: sum, max, min or mean over the middle axis r of [outer, r, inner]. */
export const ReduceOp = { sum: 0, max: 1, min: 2, mean: 3 } as const;
/** Op codes of `NativeAddon.unary`: elementwise float32 functions (rsqrt is 1 / sqrt, erf the error function). */
export const UnaryOp = { exp: 0, log: 1, neg: 2, sqrt: 3, rsqrt: 4, square: 5, tanh: 6, erf: 7, sigmoid: 8 } as const;
/** Op codes of `NativeAddon.binary`: elementwise a op b on float32, broadcast through the strides of its layout. */
export const BinaryOp = { add: 0, sub: 1, mul: 2, div: 3, squaredDifference: 4, maximum: 5, pow: 6 } as const;
