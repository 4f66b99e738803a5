import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tf } from '@tessera/core';
import type { ImageProcessor } from '@tessera/patches';
import { expect } from 'vitest';

/** Fixtures and outputs written by transformers 5.18 (make_clip.py beside them). */
export const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'fixtures/pretrained');

interface Expected {
  captions: string[];
  images: string[];
  pixel_values: { shape: number[]; data: number[] };
  models: Record<string, Record<string, number[][]>>;
}
export const expected = JSON.parse(await readFile(path.join(FIXTURES, 'expected.json'), 'utf8')) as Expected;

/** Largest absolute difference between two equally shaped matrices. */
export function maxDiff(a: number[][], b: number[][]): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  a.forEach((row, i) => {
    expect(row.length).toBe(b[i]?.length);
    row.forEach((v, j) => {
      m = Math.max(m, Math.abs(v - (b[i]?.[j] as number)));
    });
  });
  return m;
}

/** Pixel batch [N, 3, H, W] of the fixture images through a loaded processor. */
export async function fixturePixels(processor: ImageProcessor): Promise<tf.Tensor4D> {
  const parts = await Promise.all(expected.images.map((f) => processor.preprocess(path.join(FIXTURES, f))));
  const [h, w] = processor.outputSize;
  const data = new Float32Array(parts.length * 3 * h * w);
  parts.forEach((p, i) => {
    data.set(p.data, i * 3 * h * w);
  });
  return tf.tensor4d(data, [parts.length, 3, h, w]);
}
