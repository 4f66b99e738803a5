import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { KernelFunc, TensorInfo, UnsortedSegmentSumAttrs, UnsortedSegmentSumInputs } from '@tensorflow/tfjs-core';
import { heapView, sizeOf } from './wasmHeap.js';

/**
 * UnsortedSegmentSum (scatter-add) for the wasm backend, which has none: it is the gradient
 * of `tf.gather`, i.e. of every embedding lookup. One pass over the rows, O(rows x width).
 * Ids outside [0, numSegments) are dropped, as in TensorFlow.
 */
export const unsortedSegmentSum: KernelFunc = (args) => {
  const backend = args.backend as BackendWasm;
  const { x, segmentIds } = args.inputs as unknown as UnsortedSegmentSumInputs;
  const { numSegments } = args.attrs as unknown as UnsortedSegmentSumAttrs;
  const xInfo = x as TensorInfo;
  const idsInfo = segmentIds as TensorInfo;
  const rows = sizeOf(idsInfo.shape);
  const innerShape = xInfo.shape.slice(idsInfo.shape.length);
  const width = sizeOf(innerShape);
  const out = backend.makeOutput([numSegments, ...innerShape], xInfo.dtype);
  const result = heapView(backend, out);
  result.fill(0);
  const values = heapView(backend, xInfo);
  const ids = heapView(backend, idsInfo);
  for (let r = 0; r < rows; r++) {
    const segment = ids[r] as number;
    if (segment < 0 || segment >= numSegments) continue;
    const from = r * width;
    const to = segment * width;
    for (let c = 0; c < width; c++) (result[to + c] as number) += values[from + c] as number;
  }
  return out;
};
