/**
 * What the hand-assembled WebAssembly SIMD kernels of the exact store share (no toolchain
 * needed): the module layout, lazy compilation and geometric memory growth.
 */

/** The few WebAssembly globals used here (the project's TypeScript libs do not declare them). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number }) => WasmMemory;
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** Bytes per WebAssembly page; wasm32 addresses 4 GiB at most (65536 pages). */
export const PAGE = 65_536;
export const MAX_PAGES = 65_536;

/** `v128.const 0`. */
export const zeroV128 = [0xfd, 0x0c, ...new Array(16).fill(0)];

/** One exported function: its parameter types (0x7f i32, 0x7d f32) and body (locals, code, `end`). */
export interface KernelFunction {
  name: string;
  params: number[];
  body: number[];
}

export function uleb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

const section = (id: number, bytes: number[]) => [id, ...uleb(bytes.length), ...bytes];

/** A module importing its memory as `env.mem` and exporting `functions` (function i has type i). */
export function assembleKernels(functions: KernelFunction[]): Uint8Array {
  const n = uleb(functions.length);
  const name = (f: KernelFunction) => [...new TextEncoder().encode(f.name)];
  // biome-ignore format: module layout, one section per line
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
    ...section(1, [...n, ...functions.flatMap((f) => [0x60, ...uleb(f.params.length), ...f.params, 0x00])]), // types: (params) -> ()
    ...section(2, [0x01, 0x03, 0x65, 0x6e, 0x76, 0x03, 0x6d, 0x65, 0x6d, 0x02, 0x00, 0x00]), // import env.mem (memory, min 0)
    ...section(3, [...n, ...functions.flatMap((_, i) => uleb(i))]), // function i of type i
    ...section(7, [...n, ...functions.flatMap((f, i) => [...uleb(name(f).length), ...name(f), 0x00, ...uleb(i)])]), // exports
    ...section(10, [...n, ...functions.flatMap((f) => [...uleb(f.body.length), ...f.body])]), // code
  ]);
}

/** Compiles `bytes` on first use; null where WebAssembly SIMD is unavailable (callers then run a JS loop). */
export function lazyModule(bytes: Uint8Array): () => object | null {
  let module: object | null | undefined;
  return () => {
    if (module === undefined) module = wasm.validate(bytes) ? new wasm.Module(bytes) : null;
    return module;
  };
}

/** A fresh one-page memory for a kernel instance. */
export function newMemory(): WasmMemory {
  return new wasm.Memory({ initial: 1 });
}

/** The exports of `module` instantiated over `memory`. */
export function instantiate(module: object, memory: WasmMemory): Record<string, unknown> {
  return new wasm.Instance(module, { env: { mem: memory } }).exports;
}

/**
 * Grows `memory` to hold `bytes` (geometrically, so appends stay amortised O(1)); returns whether
 * it grew (views over the old buffer are then stale). Past 4 GiB it throws `full()`.
 */
export function growMemory(memory: WasmMemory, bytes: number, full: () => Error): boolean {
  const pages = Math.ceil(bytes / PAGE);
  const have = memory.buffer.byteLength / PAGE;
  if (pages <= have) return false;
  if (pages > MAX_PAGES) throw full();
  memory.grow(Math.min(MAX_PAGES, Math.max(pages, have * 2)) - have);
  return true;
}
