import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { type BatchMatMulAttrs, type BatchMatMulInputs, broadcast_util, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import type { NativeAddon } from '@tessera/native';
import { heapBuffer, offsetOf, sizeOf, stridesOf } from './nativeHeap.js';

/**
 * BatchMatMul through the addon's BLAS gemm, in place on the wasm heap: every transpose
 * flag, batch sizes 1 and more, and numpy broadcasting of the batch dimensions.
 * `x @ W` with a shared, untransposed left operand is folded into one tall product.
 */
export function nativeBatchMatMul(addon: NativeAddon, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const { a, b } = args.inputs as unknown as BatchMatMulInputs;
    const { transposeA, transposeB } = args.attrs as unknown as BatchMatMulAttrs;
    const [ai, bi] = [a as TensorInfo, b as TensorInfo];
    if (ai.dtype !== 'float32' || bi.dtype !== 'float32' || ai.shape.length < 2 || bi.shape.length < 2) return fallback(args);
    const ra = ai.shape.length;
    const rb = bi.shape.length;
    const m = ai.shape[transposeA ? ra - 1 : ra - 2] as number;
    const k = ai.shape[transposeA ? ra - 2 : ra - 1] as number;
    const k2 = bi.shape[transposeB ? rb - 1 : rb - 2] as number;
    const n = bi.shape[transposeB ? rb - 2 : rb - 1] as number;
    if (k !== k2) return fallback(args); // the stock kernel raises tfjs's own error
    const outerA = ai.shape.slice(0, -2);
    const outerB = bi.shape.slice(0, -2);
    const outer = broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
    const batch = sizeOf(outer);
    const batchA = sizeOf(outerA);
    const batchB = sizeOf(outerB);
    const out = backend.makeOutput([...outer, m, n], 'float32');
    const [ao, bo, co] = [offsetOf(backend, ai), offsetOf(backend, bi), offsetOf(backend, out)];
    const heap = heapBuffer(backend);
    const [ta, tb] = [transposeA ? 1 : 0, transposeB ? 1 : 0];
    if (batchB === 1 && !transposeA && batchA === batch) {
      addon.gemm(heap, 1, batch * m, n, k, 0, tb, ao, 0, bo, 0, co);
    } else if ((batchA === batch || batchA === 1) && (batchB === batch || batchB === 1)) {
      addon.gemm(heap, batch, m, n, k, ta, tb, ao, batchA === 1 ? 0 : m * k, bo, batchB === 1 ? 0 : k * n, co);
    } else {
      // General broadcasting ([2,1] x [1,3]): one product per output item.
      const [sa, sb] = [broadcastStrides(outerA, outer), broadcastStrides(outerB, outer)];
      const index = stridesOf(outer);
      for (let item = 0; item < batch; item++) {
        let [ia, ib, rest] = [0, 0, item];
        for (let d = 0; d < outer.length; d++) {
          const i = Math.floor(rest / (index[d] as number));
          rest -= i * (index[d] as number);
          ia += i * (sa[d] as number);
          ib += i * (sb[d] as number);
        }
        addon.gemm(heap, 1, m, n, k, ta, tb, ao + ia * m * k * 4, 0, bo + ib * k * n * 4, 0, co + item * m * n * 4);
      }
    }
    return out;
  };
}

/** Batch-item strides of an operand's batch dims aligned right to `outer` (0 where broadcast). */
function broadcastStrides(shape: number[], outer: number[]): number[] {
  const own = stridesOf(shape);
  const shift = outer.length - shape.length;
  return outer.map((_, d) => (d < shift || shape[d - shift] === 1 ? 0 : (own[d - shift] as number)));
}
