import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type {
  GatherV2Attrs,
  GatherV2Inputs,
  KernelFunc,
  SoftmaxAttrs,
  SoftmaxInputs,
  TensorInfo,
  TransposeAttrs,
  TransposeInputs,
  UnsortedSegmentSumAttrs,
  UnsortedSegmentSumInputs,
} from '@tensorflow/tfjs-core';
import { util } from '@tensorflow/tfjs-core';
import type { NativeAddon } from '@tessera/native';
import { heapBuffer, offsetOf, sizeOf, stridesOf } from './nativeHeap.js';

const FOUR_BYTES = new Set(['float32', 'int32']);

/** Softmax over the last axis (the only one tfjs-wasm supports too). */
export function nativeSoftmax(addon: NativeAddon, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const logits = (args.inputs as unknown as SoftmaxInputs).logits as TensorInfo;
    const { dim } = args.attrs as unknown as SoftmaxAttrs;
    const rank = logits.shape.length;
    if (logits.dtype !== 'float32' || rank === 0 || (dim !== -1 && dim !== rank - 1)) return fallback(args);
    const cols = logits.shape[rank - 1] as number;
    const out = backend.makeOutput(logits.shape, 'float32');
    addon.softmax(
      heapBuffer(backend),
      offsetOf(backend, logits),
      offsetOf(backend, out),
      sizeOf(logits.shape) / Math.max(cols, 1),
      cols,
      0,
    );
    return out;
  };
}

/** Any permutation of a 4-byte tensor, adjacent dims that stay adjacent merged. */
export function nativeTranspose(addon: NativeAddon, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const x = (args.inputs as unknown as TransposeInputs).x as TensorInfo;
    const { perm } = args.attrs as unknown as TransposeAttrs;
    if (!FOUR_BYTES.has(x.dtype)) return fallback(args);
    const source = stridesOf(x.shape);
    const dims: Array<[number, number]> = [];
    for (const p of perm) {
      const size = x.shape[p] as number;
      if (size === 1) continue;
      const stride = source[p] as number;
      const last = dims[dims.length - 1];
      if (last && last[1] === stride * size) {
        last[0] *= size;
        last[1] = stride;
      } else dims.push([size, stride]);
    }
    if (dims.length > 16) return fallback(args);
    const out = backend.makeOutput(
      perm.map((p) => x.shape[p] as number),
      x.dtype,
    );
    const layout = new Float64Array([dims.length, ...dims.map((d) => d[0]), ...dims.map((d) => d[1])]);
    addon.transpose(heapBuffer(backend), offsetOf(backend, x), offsetOf(backend, out), layout);
    return out;
  };
}

/** tf.gather along any axis with int32 indices (batchDims 0); out-of-range ids throw. */
export function nativeGather(addon: NativeAddon, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const { x, indices } = args.inputs as unknown as GatherV2Inputs;
    const { axis, batchDims } = args.attrs as unknown as GatherV2Attrs;
    const [xi, ii] = [x as TensorInfo, indices as TensorInfo];
    if (!FOUR_BYTES.has(xi.dtype) || ii.dtype !== 'int32' || (batchDims ?? 0) !== 0) return fallback(args);
    const ax = util.parseAxisParam(axis, xi.shape)[0] as number;
    const out = backend.makeOutput([...xi.shape.slice(0, ax), ...ii.shape, ...xi.shape.slice(ax + 1)], xi.dtype);
    addon.gather(
      heapBuffer(backend),
      offsetOf(backend, xi),
      offsetOf(backend, ii),
      offsetOf(backend, out),
      sizeOf(xi.shape.slice(0, ax)),
      xi.shape[ax] as number,
      sizeOf(xi.shape.slice(ax + 1)),
      sizeOf(ii.shape),
    );
    return out;
  };
}

/** Scatter-add (the gradient of gather); ids outside [0, numSegments) are dropped, as in TensorFlow. */
export function nativeUnsortedSegmentSum(addon: NativeAddon, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const { x, segmentIds } = args.inputs as unknown as UnsortedSegmentSumInputs;
    const { numSegments } = args.attrs as unknown as UnsortedSegmentSumAttrs;
    const [xi, ids] = [x as TensorInfo, segmentIds as TensorInfo];
    if (xi.dtype !== 'float32' || ids.dtype !== 'int32') return fallback(args);
    const inner = xi.shape.slice(ids.shape.length);
    const out = backend.makeOutput([numSegments, ...inner], 'float32');
    addon.scatterAdd(
      heapBuffer(backend),
      offsetOf(backend, xi),
      offsetOf(backend, ids),
      offsetOf(backend, out),
      sizeOf(ids.shape),
      sizeOf(inner),
      numSegments,
    );
    return out;
  };
}
