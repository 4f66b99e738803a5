import { createRequire } from 'node:module';
import path from 'node:path';
import { createLogger, TesseraError } from '@tessera/base';
import { z } from 'zod';
import { activeNativeAddon, NATIVE_KERNELS, useNativeKernels } from './kernels/native/nativeKernels.js';
import { checkWasmInternals } from './kernels/native/selfCheck.js';
import { fastWasmKernelsActive, useFastWasmKernels, WASM_KERNEL_FIXES, WASM_MISSING_KERNELS } from './kernels/wasmKernels.js';
import { tf } from './tf.js';

type NativeAddon = import('@tessera/native').NativeAddon;

/**
 * Picks the TensorFlow.js backend once for the whole process:
 * tfjs-node ('tensorflow') when it loads, else wasm SIMD with Tessera's kernel fixes,
 * else cpu (slow; reference only). `TESSERA_BACKEND` overrides the option.
 * On wasm, @tessera/native's kernels (BLAS matmul, reductions, elementwise, softmax,
 * gather...) run in place on the wasm heap when the addon is built; `TESSERA_NATIVE=0`
 * turns them off.
 */
export const BACKEND_NAMES = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;
/**
 * What `initBackend` can be asked for (case-insensitive, also through `TESSERA_BACKEND`): 'auto'
 * tries tensorflow, then wasm, then cpu; a named backend that does not load is E_BACKEND_UNAVAILABLE,
 * an unknown name E_BACKEND_UNKNOWN.
 */
export type BackendChoice = (typeof BACKEND_NAMES)[number];
/**
 * A backend tfjs actually runs on: 'tensorflow' (tfjs-node, native libtensorflow), 'wasm'
 * (SIMD, with Tessera's kernels) or 'cpu' (plain JavaScript, ~100x slower than wasm).
 */
export type BackendName = Exclude<BackendChoice, 'auto'>;

export const InitBackendOptionsSchema = z
  .object({
    backend: z.string().optional(),
    threads: z.number().int().min(1).optional(),
    /** Install Tessera's wasm kernel fixes (default true); false gives stock tfjs-wasm. */
    fastKernels: z.boolean().optional(),
    /** Use @tessera/native's kernels on wasm when the addon is built (default: as fastKernels). TESSERA_NATIVE=0 forces off. */
    native: z.boolean().optional(),
  })
  .strict();
/**
 * Options of `initBackend`: `backend` (a BackendChoice, default 'auto'; `TESSERA_BACKEND` wins),
 * `threads` (>= 1, the native kernels' pool; default 1), `fastKernels` (default true) and
 * `native` (default: as fastKernels). Unknown keys and bad values are E_CONFIG.
 */
export type InitBackendOptions = z.input<typeof InitBackendOptionsSchema>;

/** What `initBackend` chose and why, as it and `backendInfo()` return it. */
export interface BackendInfo {
  /** The backend tfjs runs on now. */
  name: BackendName;
  /** What was asked for, after the TESSERA_BACKEND override. */
  requested: BackendChoice;
  /** Why this backend: which candidates failed and how. */
  reason: string;
  /** Tessera kernels active on this backend: added where missing, or replacing slow ones. */
  kernelFixes: string[];
  /** Threads of the native kernels' pool (wasm itself runs single-threaded). */
  threads: number;
  /** Whether @tessera/native's kernels are on, and why. */
  native: NativeInfo;
}

/** The state of @tessera/native's kernels (`BackendInfo.native`); they only ever run on wasm. */
export interface NativeInfo {
  /** Whether @tessera/native's kernels are registered for the wasm backend now. */
  active: boolean;
  /**
   * 'openblas' when the addon links OpenBLAS (it runs the wide products, >= 384 columns and
   * reduction; the addon's own kernel the narrow ones, where it is faster), 'plain' without it
   * (the addon's kernel for all), null when off.
   */
  blas: string | null;
  /** The kernels it replaces when active. */
  kernels: string[];
  /** Why it is on or off. */
  reason: string;
}

const log = createLogger('tessera');
const require = createRequire(import.meta.url);
let current: BackendInfo | undefined;
let wasmVersion = '';
let nativeWantedNow = false;
let threadsWantedNow = 1;

function parseChoice(value: string | undefined, source: string): BackendChoice {
  if (value === undefined || value === '') return 'auto';
  const normalized = value.trim().toLowerCase();
  if ((BACKEND_NAMES as readonly string[]).includes(normalized)) return normalized as BackendChoice;
  throw new TesseraError('E_BACKEND_UNKNOWN', `Unknown backend "${value}" (from ${source}). Valid backends: ${BACKEND_NAMES.join(', ')}.`, {
    details: { value, valid: [...BACKEND_NAMES] },
  });
}

async function tryTensorflow(): Promise<string | null> {
  try {
    // A package that failed its install script can still be present and throw on import.
    await import('@tensorflow/tfjs-node' as string);
  } catch (error) {
    return `@tensorflow/tfjs-node did not load (${String((error as Error).message).split('\n')[0]})`;
  }
  return (await tf.setBackend('tensorflow')) ? null : '@tensorflow/tfjs-node loaded but its backend did not initialise';
}

async function tryWasm(): Promise<string | null> {
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasmVersion = wasm.version_wasm;
    const dist = `${path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'))}/dist/`;
    wasm.setWasmPaths(dist);
    return (await tf.setBackend('wasm')) ? null : 'the wasm backend did not initialise';
  } catch (error) {
    return `the wasm backend failed (${(error as Error).message})`;
  }
}

function nativeRequested(option: boolean): { wanted: boolean; why: string } {
  const env = process.env.TESSERA_NATIVE;
  if (env === '0' || env === 'false') return { wanted: false, why: 'off: TESSERA_NATIVE=0' };
  return option ? { wanted: true, why: '' } : { wanted: false, why: 'off: not requested (native: false or fastKernels: false)' };
}

/** Loads and checks the addon; returns it, or why native kernels stay off. */
async function loadNativeAddon(): Promise<NativeAddon | string> {
  let native: typeof import('@tessera/native');
  try {
    native = await import('@tessera/native');
  } catch (error) {
    return `off: @tessera/native is not installed (${(error as Error).message.split('\n')[0]})`;
  }
  const loaded = native.loadNative();
  if (!loaded.ok) return `off: ${loaded.reason}`;
  const failure = checkWasmInternals(tf.backend() as never, wasmVersion, loaded.addon);
  if (failure !== null) {
    log.warn(`native kernels disabled: ${failure}`);
    return `off: start-up self-check failed (${failure})`;
  }
  return loaded.addon;
}

async function useCpu(): Promise<void> {
  await import('@tensorflow/tfjs-backend-cpu');
  if (!(await tf.setBackend('cpu'))) throw new TesseraError('E_BACKEND_UNAVAILABLE', 'even the cpu backend failed to initialise');
}

/**
 * Chooses and initialises the backend. Safe to call again: with the same choice it returns
 * the current info; with another it switches.
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendInfo> {
  const parsed = InitBackendOptionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new TesseraError(
      'E_CONFIG',
      `initBackend options: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    );
  }
  const fromEnv = process.env.TESSERA_BACKEND;
  const requested = fromEnv ? parseChoice(fromEnv, 'TESSERA_BACKEND') : parseChoice(parsed.data.backend, 'initBackend({ backend })');
  const fastKernels = parsed.data.fastKernels ?? true;
  const native = nativeRequested(parsed.data.native ?? fastKernels);
  const threads = parsed.data.threads ?? 1;
  if (
    current &&
    current.requested === requested &&
    threadsWantedNow === threads &&
    fastWasmKernelsActive() === (fastKernels && current.name === 'wasm') &&
    nativeWantedNow === native.wanted &&
    (activeNativeAddon() !== null) === current.native.active
  ) {
    return current;
  }

  const failures: string[] = [];
  let name: BackendName | undefined;
  if (requested === 'tensorflow' || requested === 'auto') {
    const failure = await tryTensorflow();
    if (failure === null) name = 'tensorflow';
    else if (requested === 'tensorflow') {
      throw new TesseraError(
        'E_BACKEND_UNAVAILABLE',
        `${failure}. Install it with \`npm i @tensorflow/tfjs-node\` (needs network access to download libtensorflow), or use backend 'wasm'.`,
      );
    } else failures.push(failure);
  }
  if (!name && (requested === 'wasm' || requested === 'auto')) {
    const failure = await tryWasm();
    if (failure === null) name = 'wasm';
    else if (requested === 'wasm') throw new TesseraError('E_BACKEND_UNAVAILABLE', `${failure}. Use backend 'cpu' to run without it.`);
    else failures.push(failure);
  }
  if (!name) {
    await useCpu();
    name = 'cpu';
    if (requested === 'auto') log.warn(`falling back to the cpu backend, which is ~100x slower than wasm: ${failures.join('; ')}`);
  }

  if (name === 'wasm') useFastWasmKernels(fastKernels);
  let nativeInfo: NativeInfo = {
    active: false,
    blas: null,
    kernels: [],
    reason: name === 'wasm' ? native.why : `off: only for the wasm backend`,
  };
  if (name === 'wasm' && native.wanted) {
    const addon = await loadNativeAddon();
    if (typeof addon === 'string') nativeInfo = { ...nativeInfo, reason: addon };
    else {
      useNativeKernels(addon);
      addon.setThreads(threads);
      nativeInfo = { active: true, blas: addon.blas, kernels: [...NATIVE_KERNELS], reason: `on: @tessera/native (${addon.blas})` };
    }
  }
  if (!nativeInfo.active) useNativeKernels(null);
  nativeWantedNow = native.wanted;
  threadsWantedNow = threads;
  if (threads > 1 && !nativeInfo.active)
    log.warn(`threads: ${threads} requested; multi-threaded wasm is not supported yet, running single-threaded`);
  const reason =
    requested === 'auto'
      ? failures.length > 0
        ? `auto: ${failures.join('; ')}; chose ${name}`
        : `auto: ${name} is the fastest available`
      : `requested ${requested}${fromEnv ? ' via TESSERA_BACKEND' : ''}`;
  current = {
    name,
    requested,
    reason,
    kernelFixes: name === 'wasm' ? [...WASM_MISSING_KERNELS, ...(fastKernels ? WASM_KERNEL_FIXES : [])] : [],
    threads: nativeInfo.active ? threads : 1,
    native: nativeInfo,
  };
  return current;
}

/** What initBackend chose and why; throws if it has not run yet. */
export function backendInfo(): BackendInfo {
  if (!current) throw new TesseraError('E_BACKEND_UNAVAILABLE', 'No backend initialised yet: call `await initBackend()` first.');
  return current;
}
