import { createRequire } from 'node:module';
import path from 'node:path';
import { z } from 'zod';
import { TesseraError } from './errors.js';
import { fastWasmKernelsActive, useFastWasmKernels, WASM_KERNEL_FIXES, WASM_MISSING_KERNELS } from './kernels/wasmKernels.js';
import { createLogger } from './log.js';
import { tf } from './tf.js';

/**
 * Picks the TensorFlow.js backend once for the whole process:
 * tfjs-node ('tensorflow') when it loads, else wasm SIMD with Tessera's kernel fixes,
 * else cpu (slow; reference only). `TESSERA_BACKEND` overrides the option.
 */
export const BACKEND_NAMES = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_NAMES)[number];
export type BackendName = Exclude<BackendChoice, 'auto'>;

export const InitBackendOptionsSchema = z
  .object({
    backend: z.string().optional(),
    threads: z.number().int().min(1).optional(),
    /** Install Tessera's wasm kernel fixes (default true); false gives stock tfjs-wasm. */
    fastKernels: z.boolean().optional(),
  })
  .strict();
export type InitBackendOptions = z.input<typeof InitBackendOptionsSchema>;

export interface BackendInfo {
  /** The backend tfjs runs on now. */
  name: BackendName;
  /** What was asked for, after the TESSERA_BACKEND override. */
  requested: BackendChoice;
  /** Why this backend: which candidates failed and how. */
  reason: string;
  /** Tessera kernels active on this backend: added where missing, or replacing slow ones. */
  kernelFixes: string[];
  threads: number;
}

const log = createLogger('tessera');
const require = createRequire(import.meta.url);
let current: BackendInfo | undefined;

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
    const dist = `${path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'))}/dist/`;
    wasm.setWasmPaths(dist);
    return (await tf.setBackend('wasm')) ? null : 'the wasm backend did not initialise';
  } catch (error) {
    return `the wasm backend failed (${(error as Error).message})`;
  }
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
  if (current && current.requested === requested && fastWasmKernelsActive() === (fastKernels && current.name === 'wasm')) return current;

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
  const threads = parsed.data.threads ?? 1;
  if (threads > 1) log.warn(`threads: ${threads} requested; multi-threaded wasm is not supported yet, running single-threaded`);
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
    threads: 1,
  };
  return current;
}

/** What initBackend chose and why; throws if it has not run yet. */
export function backendInfo(): BackendInfo {
  if (!current) throw new TesseraError('E_BACKEND_UNAVAILABLE', 'No backend initialised yet: call `await initBackend()` first.');
  return current;
}
