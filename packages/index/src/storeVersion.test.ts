import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from './openStore.js';
import { storeVersion } from './storeVersion.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});
const record = (id: string, x: number) => ({ id, vector: new Float32Array([x, 1, 0, 0]), path: `/img/${id}` });

describe('storeVersion', () => {
  it.each(['exact', 'lance'] as const)('changes when a %s store is written by another opener, and only then', async (kind) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tessera-version-'));
    dirs.push(dir);
    const storePath = path.join(dir, 'store');
    expect(await storeVersion(storePath)).toBe('absent');
    const first = await openStore(storePath, { create: { kind, modelId: 'm', dim: 4 } });
    await first.upsert('m', [record('a', 1)]);
    await first.close();
    const v1 = await storeVersion(storePath);
    // Opening, reading and closing without writes leaves the stamp alone.
    const reader = await openStore(storePath);
    expect(await reader.count()).toBe(1);
    await reader.close();
    expect(await storeVersion(storePath)).toBe(v1);
    const writer = await openStore(storePath);
    await writer.upsert('m', [record('b', 2)]);
    await writer.close();
    const v2 = await storeVersion(storePath);
    expect(v2).not.toBe(v1);
    expect(v2).not.toBe('absent');
  });
});
