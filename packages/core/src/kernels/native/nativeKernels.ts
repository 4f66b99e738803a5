import { getKernel, type KernelConfig, type KernelFunc, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';
import type { NativeAddon } from '@tessera/native';
import { aliasCast, aliasIdentity } from './aliasKernels.js';
import { FUSED_KERNEL_NAMES, fusedKernels } from './fusedKernels.js';
import { nativeBinary, nativeUnary } from './nativeElementwise.js';
import { nativeBatchMatMul } from './nativeMatMul.js';
import { nativeReduce } from './nativeReduce.js';
import { nativeGather, nativeSoftmax, nativeTranspose, nativeUnsortedSegmentSum } from './nativeShape.js';

type Factory = (addon: NativeAddon, fallback: KernelFunc) => KernelFunc;

/** tfjs kernel name -> native implementation; each falls back to the kernel it replaced for cases it does not handle. */
const FACTORIES: Record<string, Factory> = {
  BatchMatMul: nativeBatchMatMul,
  Sum: (addon, fb) => nativeReduce(addon, 'sum', fb),
  Mean: (addon, fb) => nativeReduce(addon, 'mean', fb),
  Max: (addon, fb) => nativeReduce(addon, 'max', fb),
  Min: (addon, fb) => nativeReduce(addon, 'min', fb),
  Exp: (addon, fb) => nativeUnary(addon, 'exp', fb),
  Log: (addon, fb) => nativeUnary(addon, 'log', fb),
  Neg: (addon, fb) => nativeUnary(addon, 'neg', fb),
  Sqrt: (addon, fb) => nativeUnary(addon, 'sqrt', fb),
  Rsqrt: (addon, fb) => nativeUnary(addon, 'rsqrt', fb),
  Square: (addon, fb) => nativeUnary(addon, 'square', fb),
  Tanh: (addon, fb) => nativeUnary(addon, 'tanh', fb),
  Erf: (addon, fb) => nativeUnary(addon, 'erf', fb),
  Sigmoid: (addon, fb) => nativeUnary(addon, 'sigmoid', fb),
  Add: (addon, fb) => nativeBinary(addon, 'add', fb),
  Sub: (addon, fb) => nativeBinary(addon, 'sub', fb),
  Multiply: (addon, fb) => nativeBinary(addon, 'mul', fb),
  RealDiv: (addon, fb) => nativeBinary(addon, 'div', fb),
  SquaredDifference: (addon, fb) => nativeBinary(addon, 'squaredDifference', fb),
  Maximum: (addon, fb) => nativeBinary(addon, 'maximum', fb),
  Pow: (addon, fb) => nativeBinary(addon, 'pow', fb),
  Softmax: nativeSoftmax,
  Transpose: nativeTranspose,
  GatherV2: nativeGather,
  UnsortedSegmentSum: nativeUnsortedSegmentSum,
  Identity: (_, fb) => aliasIdentity(fb),
  Cast: (_, fb) => aliasCast(fb),
};

/** The wasm kernels that @tessera/native replaces when it is active, then the fused ones it adds. */
export const NATIVE_KERNELS = [...Object.keys(FACTORIES), ...FUSED_KERNEL_NAMES];

const replaced = new Map<string, KernelConfig>();
let active: NativeAddon | null = null;

/**
 * Registers the native kernels over whatever wasm kernels are registered now (stock or
 * Tessera's wasm fixes), or restores those (null). Idempotent.
 */
export function useNativeKernels(addon: NativeAddon | null): void {
  if (addon === active) return;
  if (active) {
    for (const [name, config] of replaced) {
      unregisterKernel(name, 'wasm');
      registerKernel(config);
    }
    replaced.clear();
    for (const name of FUSED_KERNEL_NAMES) unregisterKernel(name, 'wasm');
    active = null;
  }
  if (!addon) return;
  for (const [name, kernelFunc] of Object.entries(fusedKernels(addon)))
    registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc });
  for (const [name, factory] of Object.entries(FACTORIES)) {
    const previous = getKernel(name, 'wasm');
    if (!previous) throw new Error(`tfjs-backend-wasm has no ${name} kernel to fall back to (Tessera is tested with tfjs 4.22.0)`);
    replaced.set(name, previous);
    unregisterKernel(name, 'wasm');
    registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: factory(addon, previous.kernelFunc) });
  }
  active = addon;
}

/** The addon whose kernels are registered now, if any. */
export function activeNativeAddon(): NativeAddon | null {
  return active;
}

/** Runs `change` (which swaps wasm kernels) with the native kernels taken out and put back after. */
export function withNativeKernelsRemoved(change: () => void): void {
  const addon = active;
  useNativeKernels(null);
  try {
    change();
  } finally {
    useNativeKernels(addon);
  }
}
