import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { BinaryOp, type NativeAddon, ReduceOp, UnaryOp } from './addon.js';

/**
 * What `loadNative` returns: the addon and the path it was loaded from, or `ok: false` with a
 * readable reason (not built, stale build, failed to load) and the command that builds it.
 */
export type NativeLoadResult = { ok: true; addon: NativeAddon; path: string } | { ok: false; reason: string };

/** Where the build script leaves the addon (src/ and dist/ are both one level below the package). */
export const ADDON_PATH = path.resolve(import.meta.dirname, '..', 'build', 'Release', 'tessera_native.node');

const BUILD_SCRIPT = path.resolve(import.meta.dirname, '..', 'scripts', 'build-addon.mjs');
const HOW_TO_BUILD = `build it with \`node ${BUILD_SCRIPT}\` (needs a C++ toolchain; libopenblas-dev for OpenBLAS; npm 11 skips dependency install scripts unless approved: \`npm install-scripts approve @tessera/native\`)`;
/** Every function the addon exports: a build lacking one is stale (addon.test.ts checks this list against the build). */
export const ADDON_FUNCTIONS = [
  'gemm',
  'reduce',
  'unary',
  'binary',
  'softmax',
  'attention',
  'transpose',
  'gather',
  'scatterAdd',
  'layerNorm',
  'layerNormGrad',
  'gelu',
  'geluGrad',
  'linear',
  'linearGrad',
  'crossEntropy',
  'crossEntropyGrad',
  'adam',
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
      reason: `the addon is not built (${ADDON_PATH} is missing): ${HOW_TO_BUILD}`,
    };
    return cached;
  }
  try {
    const raw = createRequire(import.meta.url)(ADDON_PATH) as Omit<NativeAddon, 'ops'>;
    const addon: NativeAddon = { ...raw, ops: { reduce: ReduceOp, unary: UnaryOp, binary: BinaryOp } };
    const missing = ADDON_FUNCTIONS.filter((f) => typeof (addon as unknown as Record<string, unknown>)[f] !== 'function');
    cached =
      missing.length > 0
        ? {
            ok: false,
            reason: `the addon at ${ADDON_PATH} is stale (lacks ${missing.join(', ')}): re${HOW_TO_BUILD}`,
          }
        : { ok: true, addon, path: ADDON_PATH };
  } catch (error) {
    cached = { ok: false, reason: `the addon at ${ADDON_PATH} did not load (${(error as Error).message.split('\n')[0]}): ${HOW_TO_BUILD}` };
  }
  return cached;
}
