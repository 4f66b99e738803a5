import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { NativeAddon } from '@tessera/native';
import { heapBuffer, offsetOf, sizeOf } from './nativeHeap.js';

/**
 * Kernels tfjs does not have, registered for wasm while native kernels are active: fused
 * layer norm, GELU, linear layer (matmul + bias + activation) and softmax cross-entropy,
 * forward and backward (see fusedOps.ts for the ops that use them).
 */
export const FUSED_KERNEL_NAMES = [
  'TesseraLinear',
  'TesseraLinearGrad',
  'TesseraLayerNorm',
  'TesseraLayerNormGrad',
  'TesseraGelu',
  'TesseraGeluGrad',
  'TesseraCrossEntropy',
  'TesseraCrossEntropyGrad',
  'TesseraAttention',
] as const;

type Inputs = Record<string, TensorInfo>;

/** The activations of a fused linear layer, numbered as the native kernel expects. */
export const LINEAR_ACTIVATIONS = ['linear', 'gelu', 'gelu_tanh', 'relu', 'quick_gelu'] as const;
/**
 * The activation `fusedLinear` (and `Linear.forward`) applies after the product: 'linear' (none),
 * 'gelu' (exact, erf), 'gelu_tanh' (the tanh approximation), 'relu', or 'quick_gelu'
 * (x * sigmoid(1.702 x), OpenAI CLIP).
 */
export type LinearActivation = (typeof LINEAR_ACTIVATIONS)[number];

export function fusedKernels(addon: NativeAddon): Record<(typeof FUSED_KERNEL_NAMES)[number], KernelFunc> {
  return {
    // q [B, Sq, D], k and v [B, Sk, D], optional float32 mask [B, Sk] -> the merged context [B, Sq, D].
    TesseraAttention: (args) => {
      const backend = args.backend as BackendWasm;
      const { q, k, v, mask } = args.inputs as unknown as Inputs;
      const { numHeads, causal } = args.attrs as unknown as { numHeads: number; causal: boolean };
      const [batch, queries, dim] = (q as TensorInfo).shape as [number, number, number];
      const keys = (k as TensorInfo).shape[1] as number;
      const headDim = dim / numHeads;
      const out = backend.makeOutput([batch, queries, dim], 'float32');
      const at = (t: TensorInfo) => offsetOf(backend, t);
      addon.attention(
        heapBuffer(backend),
        at(q as TensorInfo),
        at(k as TensorInfo),
        at(v as TensorInfo),
        mask ? at(mask) : -1,
        at(out),
        batch,
        queries,
        keys,
        numHeads,
        headDim,
        1 / Math.sqrt(headDim),
        causal ? 1 : 0,
      );
      return out;
    },
    // x [..., in], weight [out, in], optional bias [out] -> y = act(x W^T + b) [..., out] and,
    // unless the activation is linear, the pre-activation z the backward needs.
    TesseraLinear: (args) => {
      const backend = args.backend as BackendWasm;
      const { x, weight, bias } = args.inputs as unknown as Inputs;
      const { activation } = args.attrs as unknown as { activation: LinearActivation };
      const [outFeatures, inFeatures] = (weight as TensorInfo).shape as [number, number];
      const xShape = (x as TensorInfo).shape;
      const rows = sizeOf(xShape) / inFeatures;
      const yShape = [...xShape.slice(0, -1), outFeatures];
      const act = LINEAR_ACTIVATIONS.indexOf(activation);
      const y = backend.makeOutput(yShape, 'float32');
      const z = act === 0 ? y : backend.makeOutput(yShape, 'float32');
      const at = (t: TensorInfo) => offsetOf(backend, t);
      addon.linear(
        heapBuffer(backend),
        at(x as TensorInfo),
        at(weight as TensorInfo),
        bias ? at(bias) : -1,
        at(z),
        at(y),
        rows,
        inFeatures,
        outFeatures,
        act,
      );
      return act === 0 ? [y] : [y, z];
    },
    // -> dx (x's shape), dweight and (with a bias) dbias; z is unused for a linear activation.
    TesseraLinearGrad: (args) => {
      const backend = args.backend as BackendWasm;
      const { dy, x, weight, z } = args.inputs as unknown as Inputs;
      const { activation, hasBias } = args.attrs as unknown as { activation: LinearActivation; hasBias: boolean };
      const [outFeatures, inFeatures] = (weight as TensorInfo).shape as [number, number];
      const rows = sizeOf((x as TensorInfo).shape) / inFeatures;
      const act = LINEAR_ACTIVATIONS.indexOf(activation);
      const dx = backend.makeOutput((x as TensorInfo).shape, 'float32');
      const dw = backend.makeOutput([outFeatures, inFeatures], 'float32');
      const db = hasBias ? backend.makeOutput([outFeatures], 'float32') : null;
      const at = (t: TensorInfo) => offsetOf(backend, t);
      addon.linearGrad(
        heapBuffer(backend),
        at(dy as TensorInfo),
        at(x as TensorInfo),
        at(weight as TensorInfo),
        act === 0 ? at(dy as TensorInfo) : at(z as TensorInfo),
        at(dx),
        at(dw),
        db ? at(db) : -1,
        rows,
        inFeatures,
        outFeatures,
        act,
      );
      return db ? [dx, dw, db] : [dx, dw];
    },
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
