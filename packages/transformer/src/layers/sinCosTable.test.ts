import { initBackend } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { temporalPositionEmbedding } from './sinCosTable.js';

describe('sin-cos tables', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  it('gives temporal sin-cos embeddings sin(t / 10000^(i/(D/2))) | cos(...)', () => {
    const t = temporalPositionEmbedding(3, 4);
    const values = t.arraySync();
    expect(values[0]).toEqual([0, 0, 1, 1]);
    for (let i = 0; i < 4; i++)
      expect(values[2]?.[i]).toBeCloseTo([Math.sin(2), Math.sin(0.02), Math.cos(2), Math.cos(0.02)][i] as number, 6);
    t.dispose();
  });
});
