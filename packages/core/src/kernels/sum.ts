import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { backend_util, type KernelFunc, type SumAttrs, type SumInputs, type TensorInfo, util } from '@tensorflow/tfjs-core';
import { heapView, sizeOf, withShape } from './wasmHeap.js';

/**
 * Sum over leading axes (bias gradients: [batch, tokens, features] -> [features]) as a
 * ones-vector matmul, which runs on XNNPACK; the stock wasm Sum transposes the reduced
 * axes to the end first and is several times slower. Other reductions use the stock kernel.
 */
export function fastSum(stock: KernelFunc, matMul: KernelFunc): KernelFunc {
  // `matMul` must be Tessera's BatchMatMul, which guards XNNPACK's per-id weight cache.
  return (args) => {
    const backend = args.backend as BackendWasm;
    const { x } = args.inputs as unknown as SumInputs;
    const { axis, keepDims } = args.attrs as unknown as SumAttrs;
    const info = x as TensorInfo;
    const rank = info.shape.length;
    const axes = util.parseAxisParam(axis, info.shape).sort((p, q) => p - q);
    const leading = axes.length > 0 && axes.length < rank && axes.every((a, i) => a === i);
    if (info.dtype !== 'float32' || !leading || sizeOf(info.shape) === 0) return stock(args);
    const rows = sizeOf(info.shape.slice(0, axes.length));
    const kept = info.shape.slice(axes.length);
    const ones = backend.makeOutput([1, 1, rows], 'float32');
    heapView(backend, ones).fill(1);
    const out = matMul({
      inputs: { a: ones, b: withShape(info, [1, rows, sizeOf(kept)]) },
      backend,
      attrs: { transposeA: false, transposeB: false },
    }) as TensorInfo;
    backend.disposeData(ones.dataId);
    out.shape = keepDims ? backend_util.expandShapeToKeepDim(kept, axes) : kept;
    return out;
  };
}
