import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { NativeAddon } from '@tessera/native';
import { heapBuffer, offsetOf, sizeOf } from './nativeHeap.js';

/**
 * Kernels tfjs does not have, registered for wasm while native kernels are active: fused
 * layer norm, GELU and softmax cross-entropy, forward and backward (see fusedOps.ts for the
 * ops that use them).
 */
export const FUSED_KERNEL_NAMES = [
  'TesseraLayerNorm',
  'TesseraLayerNormGrad',
  'TesseraGelu',
  'TesseraGeluGrad',
  'TesseraCrossEntropy',
  'TesseraCrossEntropyGrad',
] as const;

type Inputs = Record<string, TensorInfo>;

export function fusedKernels(addon: NativeAddon): Record<(typeof FUSED_KERNEL_NAMES)[number], KernelFunc> {
  return {
    TesseraLayerNorm: (args) => {
      const backend = args.backend as BackendWasm;
      const { x, gamma, beta } = args.inputs as unknown as Inputs;
      const { eps } = args.attrs as unknown as { eps: number };
      const info = x as TensorInfo;
      const cols = info.shape[info.shape.length - 1] as number;
      const rows = sizeOf(info.shape) / Math.max(cols, 1);
      const y = backend.makeOutput(info.shape, 'float32');
      const mean = backend.makeOutput([rows], 'float32');
      const rstd = backend.makeOutput([rows], 'float32');
      const at = (t: TensorInfo) => offsetOf(backend, t);
      addon.layerNorm(
        heapBuffer(backend),
        at(info),
        at(gamma as TensorInfo),
        at(beta as TensorInfo),
        at(y),
        at(mean),
        at(rstd),
        rows,
        cols,
        eps,
      );
      return [y, mean, rstd];
    },
    TesseraLayerNormGrad: (args) => {
      const backend = args.backend as BackendWasm;
      const { dy, x, gamma, mean, rstd } = args.inputs as unknown as Inputs;
      const info = x as TensorInfo;
      const cols = info.shape[info.shape.length - 1] as number;
      const rows = sizeOf(info.shape) / Math.max(cols, 1);
      const dx = backend.makeOutput(info.shape, 'float32');
      const dgamma = backend.makeOutput([cols], 'float32');
      const dbeta = backend.makeOutput([cols], 'float32');
      const at = (t: TensorInfo) => offsetOf(backend, t);
      addon.layerNormGrad(
        heapBuffer(backend),
        at(dy as TensorInfo),
        at(info),
        at(gamma as TensorInfo),
        at(mean as TensorInfo),
        at(rstd as TensorInfo),
        at(dx),
        at(dgamma),
        at(dbeta),
        rows,
        cols,
      );
      return [dx, dgamma, dbeta];
    },
    TesseraGelu: (args) => {
      const backend = args.backend as BackendWasm;
      const x = (args.inputs as unknown as Inputs).x as TensorInfo;
      const { approximate } = args.attrs as unknown as { approximate: boolean };
      const y = backend.makeOutput(x.shape, 'float32');
      addon.gelu(heapBuffer(backend), offsetOf(backend, x), offsetOf(backend, y), sizeOf(x.shape), approximate ? 1 : 0);
      return y;
    },
    TesseraGeluGrad: (args) => {
      const backend = args.backend as BackendWasm;
      const { dy, x } = args.inputs as unknown as Inputs;
      const { approximate } = args.attrs as unknown as { approximate: boolean };
      const info = x as TensorInfo;
      const dx = backend.makeOutput(info.shape, 'float32');
      addon.geluGrad(
        heapBuffer(backend),
        offsetOf(backend, dy as TensorInfo),
        offsetOf(backend, info),
        offsetOf(backend, dx),
        sizeOf(info.shape),
        approximate ? 1 : 0,
      );
      return dx;
    },
    TesseraCrossEntropy: (args) => {
      const backend = args.backend as BackendWasm;
      const { logits, labels } = args.inputs as unknown as Inputs;
      const { smoothing } = args.attrs as unknown as { smoothing: number };
      const [rows, cols] = (logits as TensorInfo).shape as [number, number];
      const lse = backend.makeOutput([rows], 'float32');
      const at = (t: TensorInfo) => offsetOf(backend, t);
      const [loss, counted] = addon.crossEntropy(
        heapBuffer(backend),
        at(logits as TensorInfo),
        at(labels as TensorInfo),
        at(lse),
        rows,
        cols,
        smoothing,
      );
      return [
        backend.makeOutput([], 'float32', undefined, new Float32Array([loss])),
        lse,
        backend.makeOutput([], 'float32', undefined, new Float32Array([counted])),
      ];
    },
    TesseraCrossEntropyGrad: (args) => {
      const backend = args.backend as BackendWasm;
      const { dy, logits, labels, lse, counted } = args.inputs as unknown as Inputs;
      const { smoothing } = args.attrs as unknown as { smoothing: number };
      const [rows, cols] = (logits as TensorInfo).shape as [number, number];
      // d(mean loss) / d logits = dy / counted * (softmax - target)
      const n = backend.typedArrayFromHeap(counted as TensorInfo)[0] as number;
      const scale = n > 0 ? (backend.typedArrayFromHeap(dy as TensorInfo)[0] as number) / n : 0;
      const dlogits = backend.makeOutput([rows, cols], 'float32');
      const at = (t: TensorInfo) => offsetOf(backend, t);
      addon.crossEntropyGrad(
        heapBuffer(backend),
        at(logits as TensorInfo),
        at(labels as TensorInfo),
        at(lse as TensorInfo),
        at(dlogits),
        rows,
        cols,
        smoothing,
        scale,
      );
      return dlogits;
    },
  };
}
