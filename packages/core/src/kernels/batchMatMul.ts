import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import {
  type BatchMatMulAttrs,
  type BatchMatMulInputs,
  broadcast_util,
  getKernel,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { copyBlock, heapView, sizeOf, withShape } from './wasmHeap.js';

/**
 * BatchMatMul for the wasm backend that stays on XNNPACK's fast 2-D path.
 *
 * The stock kernel is fast only for un-transposed operands with a batch of one: transpose
 * flags cost 10-15x and a batch of 8 costs ~100x (measured, tfjs 4.22). So: transpose
 * explicitly (cheap), fold the batch into rows when `b` is shared, and otherwise run one
 * 2-D product per batch item. Gradients of matMul use transpose flags, so they benefit too.
 */
export function fastBatchMatMul(stock: KernelFunc): KernelFunc {
  // XNNPACK caches the packed right-hand operand by tensor id, not by shape: the same data
  // seen through two reshapes would reuse a stale packing (and crash). Remember the shape
  // each id was used with, and copy when it differs.
  const rightShapes = new WeakMap<object, string>();
  const stableRight = (backend: BackendWasm, b: TensorInfo, k: number, n: number, temporaries: TensorInfo[]): TensorInfo => {
    const key = `${k}x${n}`;
    const seen = rightShapes.get(b.dataId);
    if (seen === undefined) rightShapes.set(b.dataId, key);
    else if (seen !== key) {
      const copy = copyBlock(backend, b, 0, k, n);
      temporaries.push(copy);
      return copy;
    }
    return withShape(b, [1, k, n]);
  };
  return (args) => {
    const backend = args.backend as BackendWasm;
    const inputs = args.inputs as unknown as BatchMatMulInputs;
    const attrs = args.attrs as unknown as BatchMatMulAttrs;
    let a = inputs.a as TensorInfo;
    let b = inputs.b as TensorInfo;
    if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) {
      return stock(args);
    }
    const temporaries: TensorInfo[] = [];
    const transposeLastTwo = (x: TensorInfo): TensorInfo => {
      const rank = x.shape.length;
      const perm = [...Array(rank - 2).keys(), rank - 1, rank - 2];
      const transpose = getKernel('Transpose', 'wasm')?.kernelFunc as KernelFunc;
      const t = transpose({ inputs: { x }, backend, attrs: { perm } }) as TensorInfo;
      temporaries.push(t);
      return t;
    };
    try {
      if (attrs.transposeA) a = transposeLastTwo(a);
      if (attrs.transposeB) b = transposeLastTwo(b);
      const [m, k] = a.shape.slice(-2) as [number, number];
      const [k2, n] = b.shape.slice(-2) as [number, number];
      if (k !== k2) return stock({ ...args, inputs: { a, b }, attrs: { ...attrs, transposeA: false, transposeB: false } });
      const outerA = a.shape.slice(0, -2);
      const outerB = b.shape.slice(0, -2);
      const outShape = [...broadcast_util.assertAndGetBroadcastShape(outerA, outerB), m, n];
      const batchA = sizeOf(outerA);
      const batchB = sizeOf(outerB);
      const plain = { transposeA: false, transposeB: false };

      if (batchB === 1) {
        // x @ W with a shared W: one tall 2-D product.
        const right = stableRight(backend, b, k, n, temporaries);
        const out = stock({ inputs: { a: withShape(a, [1, batchA * m, k]), b: right }, backend, attrs: plain }) as TensorInfo;
        out.shape = outShape;
        return out;
      }
      const outer = outShape.slice(0, -2);
      const batch = sizeOf(outer);
      // Numpy broadcasting of the batch dims (the stock kernel pairs items by flat index
      // modulo each batch size, which is wrong when both operands broadcast).
      const itemOf = [batchItemIndex(outerA, outer), batchItemIndex(outerB, outer)] as const;
      const out = backend.makeOutput(outShape, 'float32');
      const sharedA = batchA === 1 ? withShape(a, [1, m, k]) : null;
      for (let i = 0; i < batch; i++) {
        const aItem = sharedA ?? copyBlock(backend, a, itemOf[0](i) * m * k, m, k);
        const bItem = copyBlock(backend, b, itemOf[1](i) * k * n, k, n);
        const product = stock({ inputs: { a: aItem, b: bItem }, backend, attrs: plain }) as TensorInfo;
        heapView(backend, out).set(heapView(backend, product), i * m * n);
        backend.disposeData(product.dataId);
        backend.disposeData(bItem.dataId);
        if (!sharedA) backend.disposeData(aItem.dataId);
      }
      return out;
    } finally {
      for (const t of temporaries) backend.disposeData(t.dataId);
    }
  };
}

/** Maps an output batch item (flat index over `outer`) to the operand's own flat batch item. */
function batchItemIndex(shape: number[], outer: number[]): (item: number) => number {
  const shift = outer.length - shape.length;
  return (item) => {
    let [rest, index, stride] = [item, 0, 1];
    for (let d = outer.length - 1; d >= 0; d--) {
      const size = outer[d] as number;
      const i = rest % size;
      rest = (rest - i) / size;
      if (d >= shift) {
        const own = shape[d - shift] as number;
        index += (own === 1 ? 0 : i) * stride;
        stride *= own;
      }
    }
    return index;
  };
}
