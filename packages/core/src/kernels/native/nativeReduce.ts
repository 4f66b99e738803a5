import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { backend_util, type KernelFunc, type SumAttrs, type SumInputs, type TensorInfo, util } from '@tensorflow/tfjs-core';
import type { NativeAddon } from '@tessera/native';
import { heapBuffer, offsetOf, sizeOf } from './nativeHeap.js';

/**
 * Sum / Max / Min / Mean of float32 over any set of adjacent axes ([outer, reduced, inner]
 * with no transpose); other axis sets use the fallback kernel.
 */
export function nativeReduce(addon: NativeAddon, op: keyof NativeAddon['ops']['reduce'], fallback: KernelFunc): KernelFunc {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const { x } = args.inputs as unknown as SumInputs;
    // Max names its axes `reductionIndices`; Sum, Mean and Min name them `axis`.
    const attrs = args.attrs as unknown as Partial<SumAttrs> & { reductionIndices?: number | number[] };
    const axis = attrs.axis !== undefined ? attrs.axis : attrs.reductionIndices; // null: all axes
    const keepDims = attrs.keepDims;
    const info = x as TensorInfo;
    if (info.dtype !== 'float32') return fallback(args);
    const axes = util.parseAxisParam(axis as number | number[], info.shape).sort((p, q) => p - q);
    const first = axes[0] ?? 0;
    if (axes.some((a, i) => a !== first + i)) return fallback(args);
    const end = first + axes.length;
    const kept = [...info.shape.slice(0, first), ...info.shape.slice(end)];
    const out = backend.makeOutput(keepDims ? backend_util.expandShapeToKeepDim(kept, axes) : kept, 'float32');
    addon.reduce(
      heapBuffer(backend),
      addon.ops.reduce[op],
      offsetOf(backend, info),
      offsetOf(backend, out),
      sizeOf(info.shape.slice(0, first)),
      sizeOf(info.shape.slice(first, end)),
      sizeOf(info.shape.slice(end)),
    );
    return out;
  };
}
