import path from 'node:path';
import { loadSafetensors, type SafetensorsFile, SeededRandom } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { flipHorizontal, ImageAugmenter, randomResizedCropBox, resizedCrop } from './augment.js';
import { adjustBrightness, adjustContrast, adjustHue, adjustSaturation } from './colorJitter.js';
import { decodeImage } from './decodeImage.js';
import { ImageProcessor } from './imageProcessor.js';

// References: test/fixtures/make_augment.py (torchvision's formulas in PyTorch; PIL crop + resize).
const fixtures = path.join(import.meta.dirname, '../test/fixtures');
let ref: SafetensorsFile;
const get = (name: string) => Float32Array.from(ref.tensors.get(name)?.data as Float32Array);

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

describe('augmentation', () => {
  beforeAll(async () => {
    ref = await loadSafetensors(path.join(fixtures, 'augment.safetensors'));
  });

  it('colour jitter operations equal torchvision’s', () => {
    const cases: [string, (p: Float32Array) => void][] = [
      ['brightness_1.3', (p) => adjustBrightness(p, 1.3)],
      ['contrast_0.6', (p) => adjustContrast(p, 0.6)],
      ['saturation_1.7', (p) => adjustSaturation(p, 1.7)],
      ['hue_0.2', (p) => adjustHue(p, 0.2)],
      ['hue_-0.35', (p) => adjustHue(p, -0.35)],
    ];
    for (const [name, op] of cases) {
      const pixels = get('input');
      op(pixels);
      expect([name, maxAbsDiff(pixels, get(name)) < 1e-5]).toEqual([name, true]);
    }
  });

  it('resized crop equals PIL crop + resize (BICUBIC) on a real photo', async () => {
    const photo = await decodeImage(path.join(fixtures, 'photos/HappyFish.jpg'));
    const box = JSON.parse(ref.metadata.crop as string);
    const out = resizedCrop(photo, box, box.size, 'bicubic');
    expect([out.height, out.width]).toEqual([24, 32]);
    expect(maxAbsDiff(out.data, ref.tensors.get('resized_crop')?.data as Uint8Array)).toBe(0);
  });

  it('draws random resized crops inside the image, within scale and ratio, reproducibly', () => {
    const rng = new SeededRandom(7);
    for (let k = 0; k < 200; k++) {
      const { i, j, h, w } = randomResizedCropBox(300, 200, rng, [0.2, 0.9], [0.5, 2]);
      expect(i >= 0 && j >= 0 && i + h <= 200 && j + w <= 300).toBe(true);
      // Rounding to whole pixels moves area and ratio a little.
      expect((h * w) / 60000).toBeGreaterThan(0.19);
      expect((h * w) / 60000).toBeLessThan(0.91);
      expect(w / h).toBeGreaterThan(0.48);
      expect(w / h).toBeLessThan(2.05);
    }
    const a = randomResizedCropBox(300, 200, new SeededRandom(1));
    expect(randomResizedCropBox(300, 200, new SeededRandom(1))).toEqual(a);
    expect(randomResizedCropBox(300, 200, new SeededRandom(2))).not.toEqual(a);
  });

  it('falls back to a central crop clamped to the ratio (hand-computed)', () => {
    // 100x10 with ratio 1 and scale >= 0.9: every try wants a ~30x30 box, taller than 10 px.
    // Fallback: in_ratio 10 > 1 -> h = 10, w = round(10 * 1) = 10, i = 0, j = (100 - 10) // 2 = 45.
    expect(randomResizedCropBox(100, 10, new SeededRandom(3), [0.9, 1], [1, 1])).toEqual({ i: 0, j: 45, h: 10, w: 10 });
  });

  it('flips, but not when the caption names left or right', () => {
    const image = { data: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]), width: 3, height: 1, channels: 3 };
    expect([...flipHorizontal(image).data]).toEqual([7, 8, 9, 4, 5, 6, 1, 2, 3]);
    const processor = ImageProcessor.fromConfig({ do_resize: false, do_center_crop: false, do_normalize: false });
    const always = new ImageAugmenter(processor, { horizontalFlip: { p: 1 } });
    const rng = new SeededRandom(0);
    expect(always.augmentImage(image, rng, 'a dog').params.flipped).toBe(true);
    expect(always.augmentImage(image, rng, 'a dog on the Left').params.flipped).toBe(false);
    expect(always.augmentImage(image, rng, 'turn right here').params.flipped).toBe(false);
    expect(always.augmentImage(image, rng, 'a bright cleft').params.flipped).toBe(true);
    const flipped = always.augmentImage(image, rng).pixels;
    // do_rescale only: channel-first planes of the flipped pixels / 255.
    expect(Array.from(flipped, (v) => Math.round(v * 255))).toEqual([7, 4, 1, 8, 5, 2, 9, 6, 3]);
    const never = new ImageAugmenter(processor, { horizontalFlip: { p: 1, keepIfCaptionMatches: null } });
    expect(never.augmentImage(image, rng, 'on the left').params.flipped).toBe(true);
  });

  it("keeps the processor's pixel scale through colour jitter, with do_rescale on and off", () => {
    const image = { data: Uint8Array.from([10, 20, 30, 200, 100, 50]), width: 2, height: 1, channels: 3 };
    for (const do_rescale of [true, false]) {
      const processor = ImageProcessor.fromConfig({ do_resize: false, do_center_crop: false, do_normalize: false, do_rescale });
      // Factor-0 jitter draws nothing, so the pixels must be exactly the plain path's.
      const plain = new ImageAugmenter(processor, {}).augmentImage(image, new SeededRandom(1)).pixels;
      const identity = new ImageAugmenter(processor, { colorJitter: { brightness: 0 } }).augmentImage(image, new SeededRandom(1)).pixels;
      expect(Array.from(identity), `do_rescale ${do_rescale}`).toEqual(Array.from(plain).map((v) => expect.closeTo(v, 4)));
      // Brightness 2x (torchvision: clamp(2x, 0, 1)) on 0..255 when do_rescale is off: 20, 40, 60, 255, 200, 100.
      const bright = new ImageAugmenter(processor, { colorJitter: { brightness: 1 } });
      const { pixels, params } = bright.augmentImage(image, new SeededRandom(3));
      const f = params.jitter[0]?.factor as number;
      const scale = do_rescale ? 1 / 255 : 1;
      const expected = [10, 200, 20, 100, 30, 50].map((v) => Math.min(255, v * f) * scale);
      expect(Array.from(pixels)).toEqual(expected.map((v) => expect.closeTo(v, 3)));
    }
  });

  it('applies the whole pipeline reproducibly from a seed, then normalizes', async () => {
    const processor = new ImageProcessor();
    const augmenter = new ImageAugmenter(processor, {
      randomResizedCrop: { size: 32, scale: [0.3, 1] },
      horizontalFlip: {},
      colorJitter: { brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1 },
    });
    const file = path.join(fixtures, 'photos/home.jpg');
    const a = await augmenter.augment(file, new SeededRandom(11));
    const b = await augmenter.augment(file, new SeededRandom(11));
    const c = await augmenter.augment(file, new SeededRandom(12));
    expect([a.height, a.width, a.pixels.length]).toEqual([32, 32, 3 * 32 * 32]);
    expect(a.params).toEqual(b.params);
    expect(maxAbsDiff(a.pixels, b.pixels)).toBe(0);
    expect(a.params).not.toEqual(c.params);
    expect(a.params.jitter.map((x) => x.op).sort()).toEqual(['brightness', 'contrast', 'hue', 'saturation']);
    // Normalized [0, 1] values stay within (0 - mean) / std .. (1 - mean) / std.
    for (const v of a.pixels) expect(v >= -1.8 && v <= 2.2).toBe(true);
    expect(() => new ImageAugmenter(processor, { colorJitter: { hue: 0.7 } })).toThrow(expect.objectContaining({ code: 'E_CONFIG' }));
  });
});
