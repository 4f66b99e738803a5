import type { NativeAddon } from '@tessera/native';

/** The addon's matrix product: C = op(A) @ op(B) on float32 operands at byte offsets in `heap`. */
export type Gemm = NativeAddon['gemm'];

let loaded: Promise<NativeAddon | null> | undefined;

/**
 * The optional @tessera/native addon (its BLAS product runs in place on any ArrayBuffer, so on
 * the store's WebAssembly memory without a copy), or null when it is not built or
 * TESSERA_NATIVE=0; then batched search scores with the WebAssembly kernel. Its thread count is
 * the one `initBackend({ threads })` set.
 */
export function nativeAddon(): Promise<NativeAddon | null> {
  loaded ??= load();
  return loaded;
}

async function load(): Promise<NativeAddon | null> {
  const env = process.env.TESSERA_NATIVE;
  if (env === '0' || env === 'false') return null;
  try {
    const native = await import('@tessera/native');
    const result = native.loadNative();
    return result.ok ? result.addon : null;
  } catch {
    return null; // not installed: it is an optional dependency
  }
}
