import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { TensorInfo } from '@tensorflow/tfjs-core';

/**
 * The tfjs-wasm internals native kernels rely on (tfjs 4.22, checked at start-up by
 * `checkWasmInternals`): the heap is `wasm.HEAPU8.buffer`, a tensor's bytes start at
 * `dataIdMap.get(dataId).memoryOffset`.
 */

/** The heap's current ArrayBuffer. Fetch it after the last allocation of a call: growth detaches it. */
export function heapBuffer(backend: BackendWasm): ArrayBuffer {
  return (backend.wasm as unknown as { HEAPU8: Uint8Array }).HEAPU8.buffer as ArrayBuffer;
}

/** Byte offset of a tensor's data in the heap. */
export function offsetOf(backend: BackendWasm, info: TensorInfo): number {
  const data = backend.dataIdMap.get(info.dataId);
  if (data === undefined) throw new Error('tensor data is not on the wasm backend (disposed, or from another backend)');
  return data.memoryOffset;
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides of `shape`, in elements. */
export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d] as number;
  }
  return strides;
}
