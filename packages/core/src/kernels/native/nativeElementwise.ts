import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { type BinaryInputs, broadcast_util, type KernelFunc, type TensorInfo, type UnaryInputs } from '@tensorflow/tfjs-core';
import type { NativeAddon } from '@tessera/native';
import { heapBuffer, offsetOf, sizeOf, stridesOf } from './nativeHeap.js';

/** A float32 unary op (Exp, Log, ...) over the whole tensor. */
export function nativeUnary(addon: NativeAddon, op: keyof NativeAddon['ops']['unary'], fallback: KernelFunc): KernelFunc {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const x = (args.inputs as unknown as UnaryInputs).x as TensorInfo;
    if (x.dtype !== 'float32') return fallback(args);
    const out = backend.makeOutput(x.shape, 'float32');
    addon.unary(heapBuffer(backend), addon.ops.unary[op], offsetOf(backend, x), offsetOf(backend, out), sizeOf(x.shape));
    return out;
  };
}

/** A float32 binary op with numpy broadcasting. */
export function nativeBinary(addon: NativeAddon, op: keyof NativeAddon['ops']['binary'], fallback: KernelFunc): KernelFunc {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const { a, b } = args.inputs as unknown as BinaryInputs;
    const [ai, bi] = [a as TensorInfo, b as TensorInfo];
    if (ai.dtype !== 'float32' || bi.dtype !== 'float32') return fallback(args);
    const shape = broadcast_util.assertAndGetBroadcastShape(ai.shape, bi.shape);
    const layout = binaryLayout(shape, ai.shape, bi.shape);
    if (layout === null) return fallback(args);
    const out = backend.makeOutput(shape, 'float32');
    addon.binary(heapBuffer(backend), addon.ops.binary[op], offsetOf(backend, ai), offsetOf(backend, bi), offsetOf(backend, out), layout);
    return out;
  };
}

/**
 * [rank, ...shape, ...aStrides, ...bStrides] with broadcast dims at stride 0, size-1 dims
 * dropped and adjacent dims merged where both operands allow (so most calls become rank 1-2).
 * Null above the addon's rank limit.
 */
export function binaryLayout(shape: number[], aShape: number[], bShape: number[]): Float64Array | null {
  const aligned = (s: number[]) => {
    const own = stridesOf(s);
    const shift = shape.length - s.length;
    return shape.map((_, d) => (d < shift || s[d - shift] === 1 ? 0 : (own[d - shift] as number)));
  };
  const [as, bs] = [aligned(aShape), aligned(bShape)];
  const dims: Array<[number, number, number]> = [];
  for (let d = 0; d < shape.length; d++) {
    const size = shape[d] as number;
    if (size === 1) continue;
    const last = dims[dims.length - 1];
    const [sa, sb] = [as[d] as number, bs[d] as number];
    if (last && last[1] === sa * size && last[2] === sb * size) {
      last[0] *= size;
      last[1] = sa;
      last[2] = sb;
    } else dims.push([size, sa, sb]);
  }
  if (dims.length > 16) return null;
  const r = dims.length;
  const layout = new Float64Array(1 + 3 * r);
  layout[0] = r;
  dims.forEach(([size, sa, sb], d) => {
    layout[1 + d] = size;
    layout[1 + r + d] = sa;
    layout[1 + 2 * r + d] = sb;
  });
  return layout;
}
