import { getKernel, type KernelConfig, type KernelFunc, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';
import { fastBatchMatMul } from './batchMatMul.js';
import { withNativeKernelsRemoved } from './native/nativeKernels.js';
import { fastSum } from './sum.js';
import { unsortedSegmentSum } from './unsortedSegmentSum.js';

/**
 * Tessera's kernels for the tfjs wasm backend:
 * - kernels wasm lacks (registered once, always: without them training cannot run);
 * - faster replacements for stock kernels, swapped in and out of the registry so the
 *   stock ones stay available (the benchmarks compare both).
 */
export const WASM_MISSING_KERNELS = ['UnsortedSegmentSum'] as const;
/**
 * The stock wasm kernels that `useFastWasmKernels(true)` (initBackend's default `fastKernels`)
 * replaces: BatchMatMul, kept on XNNPACK's fast 2-D path for transposes and batches, and Sum
 * over leading axes (bias gradients), run as a ones-vector matmul.
 */
export const WASM_KERNEL_FIXES = ['BatchMatMul', 'Sum'] as const;

const stockKernels = new Map<string, KernelConfig>();
let installed = false;

function replace(kernelName: string, kernelFunc: KernelFunc): void {
  if (getKernel(kernelName, 'wasm')) unregisterKernel(kernelName, 'wasm');
  registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
}

/** Registers the kernels the wasm backend lacks. Idempotent. */
export function registerMissingWasmKernels(): void {
  if (!getKernel('UnsortedSegmentSum', 'wasm')) {
    registerKernel({ kernelName: 'UnsortedSegmentSum', backendName: 'wasm', kernelFunc: unsortedSegmentSum });
  }
}

/**
 * Installs (true) or removes (false) the faster replacements. Idempotent. Native kernels,
 * when active, stay on top (falling back to whichever these leave registered).
 */
export function useFastWasmKernels(enabled: boolean): void {
  registerMissingWasmKernels();
  if (enabled === installed) return;
  withNativeKernelsRemoved(() => swapFastKernels(enabled));
}

function swapFastKernels(enabled: boolean): void {
  if (enabled) {
    for (const name of WASM_KERNEL_FIXES) {
      const stock = getKernel(name, 'wasm');
      if (!stock) throw new Error(`tfjs-backend-wasm has no ${name} kernel: unsupported version (Tessera is tested with 4.22.0)`);
      stockKernels.set(name, stock);
    }
    const matMul = fastBatchMatMul((stockKernels.get('BatchMatMul') as KernelConfig).kernelFunc);
    replace('BatchMatMul', matMul);
    replace('Sum', fastSum((stockKernels.get('Sum') as KernelConfig).kernelFunc, matMul));
  } else {
    for (const name of WASM_KERNEL_FIXES) {
      unregisterKernel(name, 'wasm');
      registerKernel(stockKernels.get(name) as KernelConfig);
    }
  }
  installed = enabled;
}

/** Whether Tessera's replacements for WASM_KERNEL_FIXES are registered for the wasm backend now. */
export function fastWasmKernelsActive(): boolean {
  return installed;
}
