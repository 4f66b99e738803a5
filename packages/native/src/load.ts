import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { NativeAddon } from './addon.js';

export type NativeLoadResult = { ok: true; addon: NativeAddon; path: string } | { ok: false; reason: string };

/** Where the build script leaves the addon (src/ and dist/ are both one level below the package). */
export const ADDON_PATH = path.resolve(import.meta.dirname, '..', 'build', 'Release', 'tessera_native.node');

const FUNCTIONS = [
  'gemm',
  'reduce',
  'unary',
  'binary',
  'softmax',
  'transpose',
  'gather',
  'scatterAdd',
  'layerNorm',
  'layerNormGrad',
  'gelu',
  'geluGrad',
  'setThreads',
  'getThreads',
];
let cached: NativeLoadResult | undefined;

/**
 * Loads the compiled addon once. Never throws: when the addon was not built (no C++
 * toolchain, install scripts skipped) the result says why and how to build it.
 */
export function loadNative(): NativeLoadResult {
  if (cached) return cached;
  if (!existsSync(ADDON_PATH)) {
    cached = {
      ok: false,
      reason: `the addon is not built (${ADDON_PATH} is missing): run \`npm run build -w @tessera/native\` (needs a C++ toolchain; libopenblas-dev for full speed)`,
    };
    return cached;
  }
  try {
    const addon = createRequire(import.meta.url)(ADDON_PATH) as NativeAddon;
    const missing = FUNCTIONS.filter((f) => typeof (addon as unknown as Record<string, unknown>)[f] !== 'function');
    cached =
      missing.length > 0
        ? {
            ok: false,
            reason: `the addon at ${ADDON_PATH} is stale (lacks ${missing.join(', ')}): rebuild it with \`npm run build -w @tessera/native\``,
          }
        : { ok: true, addon, path: ADDON_PATH };
  } catch (error) {
    cached = { ok: false, reason: `the addon at ${ADDON_PATH} did not load (${(error as Error).message.split('\n')[0]}): rebuild it` };
  }
  return cached;
}
