import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { initBackend, loadSafetensors, type SafetensorsFile, tf } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeImage } from './decodeImage.js';
import { CLIP_MEAN, CLIP_STD, centerCrop, ImageProcessor } from './imageProcessor.js';
import { resample } from './resample.js';

// References from PIL + numpy following CLIPImageProcessor: test/fixtures/make_golden.py.
// Resampling: Pillow's Image.resize with the config's filter (BICUBIC for CLIP) on the PIL side;
// ours is a transcription of Pillow's Resample.c (same filter, same fixed-point arithmetic).
const fixtures = path.join(import.meta.dirname, '../test/fixtures');
let golden: SafetensorsFile;
let meta: Record<string, any>;

function array(name: string): Float32Array | Uint8Array {
  const entry = golden.tensors.get(name);
  if (!entry) throw new Error(`golden lacks ${name}`);
  return entry.data as Float32Array | Uint8Array;
}

function meanAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs((a[i] as number) - (b[i] as number));
  return s / a.length;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

const strided = (a: ArrayLike<number>, stride: number) =>
  Array.from({ length: Math.ceil(a.length / stride) }, (_, i) => a[i * stride] as number);

describe('ImageProcessor (golden vs PIL + numpy)', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
    golden = await loadSafetensors(path.join(fixtures, 'golden.safetensors'));
    meta = JSON.parse(golden.metadata.meta as string);
  });

  it('has CLIPImageProcessor defaults', () => {
    const p = new ImageProcessor();
    expect(p.config).toMatchObject({
      do_resize: true,
      size: { shortest_edge: 224 },
      resample: 3,
      do_center_crop: true,
      crop_size: { height: 224, width: 224 },
      do_rescale: true,
      rescale_factor: 1 / 255,
      do_normalize: true,
      image_mean: CLIP_MEAN,
      image_std: CLIP_STD,
    });
    expect(p.outputSize).toEqual([224, 224]);
  });

  for (const config of ['small', 'pad']) {
    it(`resizes exactly like PIL (${config} config: filter from the config, photos and emoji)`, async () => {
      const processor = ImageProcessor.fromConfig(meta.configs[config]);
      for (const [name, file] of Object.entries(meta.images as Record<string, string>)) {
        const decoded = await processor.decode(path.join(fixtures, file));
        const [w, h] = processor.resizeTarget(decoded.width, decoded.height);
        const expectedShape = meta[`${config}.${name}`].resized;
        expect([h, w, 3]).toEqual(expectedShape);
        const resized = processor.transform({ ...decoded }).data;
        const processorNoCrop = ImageProcessor.fromConfig({ ...meta.configs[config], do_center_crop: false });
        const ours = processorNoCrop.transform(decoded).data;
        const ref = array(`${config}.${name}.resized`);
        // The bound is 2/255 on average; Pillow's own algorithm and alpha compositing give equality.
        expect(meanAbsDiff(ours, ref)).toBeLessThan(2);
        expect(maxAbsDiff(ours, ref)).toBe(0);
        expect(resized.length).toBe(meta.configs[config].crop_size.height * meta.configs[config].crop_size.width * 3);
      }
    });

    it(`crops (with zero padding) and normalizes exactly like numpy (${config} config)`, async () => {
      const processor = ImageProcessor.fromConfig({ ...meta.configs[config], do_resize: false });
      for (const name of Object.keys(meta.images)) {
        const [h, w] = meta[`${config}.${name}`].resized;
        const raw = { data: array(`${config}.${name}.resized`) as Uint8Array, width: w, height: h, channels: 3 };
        const { data } = await processor.preprocess(raw);
        expect(maxAbsDiff(data, array(`${config}.${name}.pixel_values`))).toBe(0);
      }
    });
  }

  it('resamples with each Pillow filter exactly (0 nearest .. 5 hamming), shrinking and enlarging', async () => {
    for (const [code, filter] of Object.entries(['nearest', 'lanczos', 'bilinear', 'bicubic', 'box', 'hamming'] as const)) {
      for (const [name, [w, h]] of [
        ['HappyFish', [37, 28]],
        ['heart', [67, 71]],
      ] as const) {
        const decoded = await decodeImage(path.join(fixtures, meta.images[name]));
        const ours = resample(decoded, w, h, filter).data;
        // Lanczos and Hamming weights use sin/cos: V8's and glibc's can differ in the last bit, which
        // moved one value of 3108 by one level (Hamming, HappyFish). The other filters are exact.
        const tolerance = filter === 'lanczos' || filter === 'hamming' ? 1 : 0;
        expect([filter, name, maxAbsDiff(ours, array(`filter${code}.${name}`)) <= tolerance]).toEqual([filter, name, true]);
      }
    }
  });

  it('matches CLIP at 224 end to end (sampled pixels and channel sums)', async () => {
    const processor = new ImageProcessor();
    const stride = meta.stride as number;
    for (const [name, file] of Object.entries(meta.images as Record<string, string>)) {
      const decoded = await processor.decode(path.join(fixtures, file));
      const [w, h] = processor.resizeTarget(decoded.width, decoded.height);
      expect([h, w, 3]).toEqual(meta[`clip224.${name}`].resized);
      const noCrop = ImageProcessor.fromConfig({ do_center_crop: false });
      const resized = strided(noCrop.transform(decoded).data, stride);
      expect(meanAbsDiff(resized, array(`clip224.${name}.resized.sampled`))).toBeLessThan(2);
      expect(maxAbsDiff(resized, array(`clip224.${name}.resized.sampled`))).toBe(0);
      const pixels = await processor.process(path.join(fixtures, file));
      expect(pixels.shape).toEqual([1, 3, 224, 224]);
      const values = pixels.dataSync();
      expect(maxAbsDiff(strided(values, stride), array(`clip224.${name}.pixel_values.sampled`))).toBe(0);
      const refSums = array(`clip224.${name}.pixel_values.channel_sum`);
      const plane = 224 * 224;
      for (let c = 0; c < 3; c++) {
        let sum = 0; // float64, as numpy's reference sum
        for (let i = c * plane; i < (c + 1) * plane; i++) sum += values[i] as number;
        expect(Math.abs(sum - (refSums[c] as number))).toBeLessThan(1e-2);
      }
      pixels.dispose();
    }
  });

  it("resizeEngine 'libvips' stays within 2/255 of PIL on average at CLIP 224 (sharp cubic vs PIL BICUBIC)", async () => {
    const fast = new ImageProcessor({}, { resizeEngine: 'libvips' });
    const stride = meta.stride as number;
    for (const [name, file] of Object.entries(meta.images as Record<string, string>)) {
      const { data } = await fast.preprocess(path.join(fixtures, file));
      const ref = array(`clip224.${name}.pixel_values.sampled`);
      // 2 levels of 255 in normalized units, with the largest CLIP std (the tightest bound).
      expect([name, meanAbsDiff(strided(data, stride), ref) < 2 / 255 / 0.27577711]).toEqual([name, true]);
    }
    const cut = (await readFile(path.join(fixtures, 'photos/home.jpg'))).subarray(0, 3000);
    await expect(fast.preprocess(cut)).rejects.toMatchObject({ code: 'E_IMAGE_CORRUPT' });
  });

  it('loads preprocessor_config.json as published for openai/clip-vit-base-patch32', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'patches-'));
    const file = path.join(dir, 'preprocessor_config.json');
    await writeFile(
      file,
      JSON.stringify({
        crop_size: 224,
        do_center_crop: true,
        do_normalize: true,
        do_resize: true,
        feature_extractor_type: 'CLIPFeatureExtractor',
        image_mean: CLIP_MEAN,
        image_std: CLIP_STD,
        resample: 3,
        size: 224,
      }),
    );
    const p = await ImageProcessor.fromFile(file);
    expect(p.config.size).toEqual({ shortest_edge: 224 });
    expect(p.config.crop_size).toEqual({ height: 224, width: 224 });
    await expect(ImageProcessor.fromFile(path.join(dir, 'missing.json'))).rejects.toMatchObject({ code: 'E_CONFIG' });
    await rm(dir, { recursive: true, force: true });
  });

  it('rejects unknown or bad keys naming the field', () => {
    expect(() => ImageProcessor.fromConfig({ crop_pct: 0.9 })).toThrow(/crop_pct/);
    expect(() => ImageProcessor.fromConfig({ resample: 9 })).toThrow(
      expect.objectContaining({ code: 'E_CONFIG', message: expect.stringMatching(/resample/) }),
    );
    expect(() => ImageProcessor.fromConfig({ size: { shortest_edge: -1 } })).toThrow(/size/);
  });

  it('gives NHWC on request, the transpose of NCHW, and leaks no tensors', async () => {
    const p = ImageProcessor.fromConfig({ size: 16, crop_size: 16 });
    const file = path.join(fixtures, 'photos/HappyFish.jpg');
    const before = tf.memory().numTensors;
    const nchw = await p.process([file, file]);
    const nhwc = await p.process([file, file], { dataFormat: 'channels_last' });
    expect(nhwc.shape).toEqual([2, 16, 16, 3]);
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(tf.transpose(nchw, [0, 2, 3, 1]), nhwc))).dataSync()[0]);
    expect(diff).toBe(0);
    tf.dispose([nchw, nhwc]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('center-crops like transformers for odd margins: top = (H - h) // 2', () => {
    // 5x4 single-channel image with values 0..19; crop 2x3 -> rows 1-2, cols 0-2 (floor((4-3)/2) = 0).
    const img = { data: Uint8Array.from({ length: 20 }, (_, i) => i), width: 4, height: 5, channels: 1 };
    expect([...centerCrop(img, 2, 3).data]).toEqual([4, 5, 6, 8, 9, 10]);
    // Larger crop: a 1x2 image in 3x3 gets ceil(margin / 2) zeros first (checked with the script's center_crop).
    const small = { data: Uint8Array.from([7, 9]), width: 2, height: 1, channels: 1 };
    expect([...centerCrop(small, 3, 3).data]).toEqual([0, 0, 0, 0, 7, 9, 0, 0, 0]);
  });
});
