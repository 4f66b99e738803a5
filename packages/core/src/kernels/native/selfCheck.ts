import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { version_core } from '@tensorflow/tfjs-core';
import type { NativeAddon } from '@tessera/native';
import { heapBuffer, offsetOf } from './nativeHeap.js';

/** The tfjs version whose wasm internals the native kernels were written against. */
export const TESTED_TFJS_VERSION = '4.22.0';

/**
 * Confirms, on the live backend, every tfjs-wasm internal the native kernels use: versions,
 * the heap buffer, `dataIdMap` offsets, `makeOutput`, and one native product read back
 * through tfjs. `wasmVersion` is tfjs-backend-wasm's `version_wasm`. Returns null when all hold, else what failed.
 */
export function checkWasmInternals(backend: BackendWasm, wasmVersion: string, addon: NativeAddon): string | null {
  if (version_core !== TESTED_TFJS_VERSION || wasmVersion !== TESTED_TFJS_VERSION) {
    return `tfjs-core ${version_core} / tfjs-backend-wasm ${wasmVersion} differ from the tested ${TESTED_TFJS_VERSION}`;
  }
  const made: Array<{ dataId: object }> = [];
  try {
    if (!((backend.wasm as unknown as { HEAPU8?: Uint8Array })?.HEAPU8?.buffer instanceof ArrayBuffer))
      return 'backend.wasm.HEAPU8.buffer is not an ArrayBuffer';
    if (typeof backend.makeOutput !== 'function' || typeof backend.dataIdMap?.get !== 'function') {
      return 'backend.makeOutput or backend.dataIdMap is missing';
    }
    const a = backend.makeOutput([2, 3], 'float32', undefined, new Float32Array([1, 2, 3, 4, 5, 6]));
    const b = backend.makeOutput([3, 2], 'float32', undefined, new Float32Array([1, 0, 0, 1, 1, 1]));
    const c = backend.makeOutput([2, 2], 'float32');
    made.push(a, b, c);
    const offsets = [a, b, c].map((t) => offsetOf(backend, t));
    if (offsets.some((o) => !Number.isSafeInteger(o) || o <= 0)) return 'dataIdMap memoryOffset is not a heap offset';
    addon.gemm(heapBuffer(backend), 1, 2, 2, 3, 0, 0, offsets[0] as number, 0, offsets[1] as number, 0, offsets[2] as number);
    const product = Array.from(backend.readSync(c.dataId) as Float32Array);
    if (product.join() !== '4,5,10,11')
      return `a native product read back through tfjs gave [${product.join(', ')}], expected [4, 5, 10, 11]`;
    return null;
  } catch (error) {
    return `self-check failed: ${(error as Error).message}`;
  } finally {
    for (const t of made) backend.disposeData(t.dataId);
  }
}
