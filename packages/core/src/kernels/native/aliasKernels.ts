import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { CastAttrs, IdentityInputs, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';

/**
 * Identity, and Cast to the same dtype, as a reference-counted alias of the input instead
 * of a copy (as tfjs's cpu and webgl backends do): kernels never write their inputs, and
 * the backend frees the data when the last alias is disposed.
 */
export function aliasIdentity(fallback: KernelFunc): KernelFunc {
  return (args) => {
    const x = (args.inputs as unknown as IdentityInputs).x as TensorInfo;
    if (x.dtype === 'string') return fallback(args);
    (args.backend as BackendWasm).incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  };
}

export function aliasCast(fallback: KernelFunc): KernelFunc {
  return (args) => {
    const x = (args.inputs as unknown as IdentityInputs).x as TensorInfo;
    const { dtype } = args.attrs as unknown as CastAttrs;
    if (dtype !== x.dtype || x.dtype === 'string') return fallback(args);
    (args.backend as BackendWasm).incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  };
}
