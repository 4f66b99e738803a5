/**
 * @tessera/native: an optional Node-API addon with BLAS matmul and fused kernels that run in
 * place on the tfjs wasm heap. @tessera/core registers them as wasm kernels when it loads;
 * without it Tessera runs on the stock wasm kernels.
 *
 * @module @tessera/native
 */
export { BinaryOp, type NativeAddon, ReduceOp, UnaryOp } from './addon.js';
export { ADDON_PATH, loadNative, type NativeLoadResult } from './load.js';
