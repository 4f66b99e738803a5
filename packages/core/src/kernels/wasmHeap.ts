import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { TensorInfo } from '@tensorflow/tfjs-core';

/**
 * Helpers for kernels that work on tensors inside the tfjs wasm heap. Views must be fetched
 * again after every allocation: growing the heap detaches the old ArrayBuffer.
 */
export function heapView(backend: BackendWasm, info: TensorInfo) {
  return backend.typedArrayFromHeap(info);
}

/** A new [1, rows, cols] float32 tensor holding elements [offset, offset + rows*cols) of `source`. */
export function copyBlock(backend: BackendWasm, source: TensorInfo, offset: number, rows: number, cols: number): TensorInfo {
  const block = backend.makeOutput([1, rows, cols], 'float32');
  heapView(backend, block).set(heapView(backend, source).subarray(offset, offset + rows * cols));
  return block;
}

/** The same data seen with another shape (no copy; the caller's dataId keeps ownership). */
export function withShape(info: TensorInfo, shape: number[]): TensorInfo {
  return { dataId: info.dataId, dtype: info.dtype, shape };
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
