import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { loadNative, type NativeAddon } from '@tessera/native';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendInfo, initBackend } from '../../backend.js';
import { tf } from '../../tf.js';
import { activeNativeAddon } from './nativeKernels.js';
import { checkWasmInternals, TESTED_TFJS_VERSION } from './selfCheck.js';

describe('native kernel start-up', () => {
  let addon: NativeAddon;
  const saved = process.env.TESSERA_NATIVE;
  beforeAll(async () => {
    await initBackend({ backend: 'wasm', native: false });
    const loaded = loadNative();
    if (!loaded.ok) throw new Error(`these tests need the built addon: ${loaded.reason}`);
    addon = loaded.addon;
  });
  afterAll(async () => {
    if (saved === undefined) delete process.env.TESSERA_NATIVE;
    else process.env.TESSERA_NATIVE = saved;
    await initBackend({ backend: 'wasm', native: false });
  });

  it('the self-check passes on the pinned tfjs and fails on another version or missing internals', () => {
    const backend = tf.backend() as BackendWasm;
    expect(TESTED_TFJS_VERSION).toBe('4.22.0');
    expect(checkWasmInternals(backend, '4.22.0', addon)).toBeNull();
    expect(checkWasmInternals(backend, '4.23.0', addon)).toMatch(/differ from the tested 4\.22\.0/);
    const fake = { wasm: {}, makeOutput: backend.makeOutput, dataIdMap: backend.dataIdMap } as unknown as BackendWasm;
    expect(checkWasmInternals(fake, '4.22.0', addon)).toMatch(/HEAPU8/);
  });

  it('initBackend turns native kernels on, reports the BLAS, and TESSERA_NATIVE=0 turns them off', async () => {
    delete process.env.TESSERA_NATIVE;
    const on = await initBackend({ backend: 'wasm', threads: 1 });
    expect(on.native).toMatchObject({ active: true, blas: addon.blas });
    expect(on.native.kernels).toContain('BatchMatMul');
    expect(backendInfo().native.active).toBe(true);
    expect(activeNativeAddon()).toBe(addon);
    expect(tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc).not.toBeUndefined();

    process.env.TESSERA_NATIVE = '0';
    const off = await initBackend({ backend: 'wasm' });
    expect(off.native).toMatchObject({ active: false, blas: null, kernels: [] });
    expect(off.native.reason).toMatch(/TESSERA_NATIVE=0/);
    expect(activeNativeAddon()).toBeNull();

    delete process.env.TESSERA_NATIVE;
    const stock = await initBackend({ backend: 'wasm', fastKernels: false });
    expect(stock.native.active).toBe(false);
    const cpu = await initBackend({ backend: 'cpu' });
    expect(cpu.native).toMatchObject({ active: false, reason: 'off: only for the wasm backend' });
    expect(activeNativeAddon()).toBeNull();
  });
});
