import { execFileSync } from 'node:child_process';
import { isTesseraError } from '@tessera/base';
import { describe, expect, it } from 'vitest';
import { backendInfo, initBackend } from './backend.js';
import { tf } from './tf.js';

async function tfjsNodeLoads(): Promise<boolean> {
  try {
    await import('@tensorflow/tfjs-node' as string);
    return true;
  } catch {
    return false;
  }
}

describe('initBackend', () => {
  it('auto picks tfjs-node when it loads, else wasm with the kernel fixes, and says why', async () => {
    const info = await initBackend();
    const expected = (await tfjsNodeLoads()) ? 'tensorflow' : 'wasm';
    expect(info.name).toBe(expected);
    expect(tf.getBackend()).toBe(expected);
    expect(backendInfo()).toBe(info);
    if (expected === 'wasm') {
      expect(info.reason).toMatch(/tfjs-node did not load/);
      expect(info.kernelFixes).toEqual(['UnsortedSegmentSum', 'BatchMatMul', 'Sum']);
    }
  });

  it('registers gradients whichever backend runs', async () => {
    for (const backend of ['wasm', 'cpu'] as const) {
      await initBackend({ backend });
      expect(tf.getBackend()).toBe(backend);
      // RealDiv has no gradient unless the gradient registry was loaded.
      const g = tf.grad((x: tf.Tensor) => tf.sum(tf.div(x, tf.scalar(4))))(tf.tensor1d([1, 2]));
      expect([...g.dataSync()]).toEqual([0.25, 0.25]);
    }
  });

  it('rejects an unknown backend with the list of valid names', async () => {
    const error = await initBackend({ backend: 'webgpu' }).catch((e: unknown) => e);
    expect(isTesseraError(error, 'E_BACKEND_UNKNOWN')).toBe(true);
    expect((error as Error).message).toContain('auto, tensorflow, wasm, cpu');
  });

  it('rejects unknown options with the field name', async () => {
    const error = await initBackend({ backnd: 'wasm' } as never).catch((e: unknown) => e);
    expect(isTesseraError(error, 'E_CONFIG')).toBe(true);
    expect((error as Error).message).toMatch(/backnd/);
  });

  it('fails clearly when tfjs-node is requested but cannot load', async () => {
    if (await tfjsNodeLoads()) return expect(await initBackend({ backend: 'tensorflow' })).toMatchObject({ name: 'tensorflow' });
    const error = await initBackend({ backend: 'tensorflow' }).catch((e: unknown) => e);
    expect(isTesseraError(error, 'E_BACKEND_UNAVAILABLE')).toBe(true);
    expect((error as Error).message).toMatch(/npm i @tensorflow\/tfjs-node/);
  });

  it('honours TESSERA_BACKEND from another package, as a user script would', () => {
    const script = `import { initBackend } from '@tessera/core'; const i = await initBackend(); console.log(i.name);`;
    const run = (env: Record<string, string>) =>
      execFileSync(process.execPath, ['--conditions=development', '--import', 'tsx', '--input-type=module', '-e', script], {
        env: { ...process.env, ...env },
        encoding: 'utf8',
      }).trim();
    expect(run({ TESSERA_BACKEND: 'cpu' })).toBe('cpu');
    expect(run({ TESSERA_BACKEND: 'wasm' })).toBe('wasm');
  });

  it('runs on wasm, and says why, when @tessera/native cannot be resolved at all (npm --omit=optional)', () => {
    // A resolve hook that answers for @tessera/native exactly as Node does for a package that is absent.
    const hook = `export async function resolve(spec, ctx, next) {
      if (spec === '@tessera/native') { const e = new Error("Cannot find package '@tessera/native'"); e.code = 'ERR_MODULE_NOT_FOUND'; throw e; }
      return next(spec, ctx);
    }`;
    const script = `import { register } from 'node:module';
      register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));
      const { initBackend } = await import('@tessera/core');
      const info = await initBackend({ backend: 'wasm' });
      console.log(JSON.stringify({ name: info.name, native: info.native }));`;
    const out = execFileSync(process.execPath, ['--conditions=development', '--import', 'tsx', '--input-type=module', '-e', script], {
      env: { ...process.env, TESSERA_NATIVE: '' },
      encoding: 'utf8',
    });
    const info = JSON.parse(out.trim().split('\n').pop() as string);
    expect(info.name).toBe('wasm');
    expect(info.native.active).toBe(false);
    expect(info.native.reason).toMatch(/^off: @tessera\/native is not installed/);
  });
});
