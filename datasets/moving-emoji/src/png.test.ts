import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { emojiImagePath } from '@tessera/dataset-emoji';
import { describe, expect, it } from 'vitest';
import { decodePng } from './png.js';

const reference = JSON.parse(
  await readFile(path.join(import.meta.dirname, '..', 'test', 'fixtures', 'png-reference.json'), 'utf8'),
) as Record<
  string,
  {
    style: 'google' | 'twitter';
    file: string;
    colorType: number;
    bitDepth: number;
    size: [number, number];
    sha256: string;
    pixel_32_32: number[];
  }
>;

describe('decodePng', () => {
  for (const [kind, ref] of Object.entries(reference)) {
    it(`decodes ${kind} (colour type ${ref.colorType}, ${ref.bitDepth} bit) to the same RGBA as Pillow`, async () => {
      const img = decodePng(new Uint8Array(await readFile(emojiImagePath(ref.style, ref.file))));
      expect([img.width, img.height]).toEqual(ref.size);
      const o = (32 * img.width + 32) * 4;
      expect([...img.data.subarray(o, o + 4)]).toEqual(ref.pixel_32_32);
      expect(createHash('sha256').update(img.data).digest('hex')).toBe(ref.sha256);
    });
  }

  it('rejects a file that is not a PNG, or is cut short, with typed errors', async () => {
    expect(() => decodePng(new TextEncoder().encode('GIF89a....'))).toThrow(expect.objectContaining({ code: 'E_IMAGE_UNSUPPORTED' }));
    const bytes = new Uint8Array(await readFile(emojiImagePath('google', '1f436.png')));
    expect(() => decodePng(bytes.subarray(0, 200))).toThrow(expect.objectContaining({ code: 'E_IMAGE_CORRUPT' }));
  });
});
