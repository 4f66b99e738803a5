import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage, rawToRgb } from './decodeImage.js';
import { INPUT_ERROR_CODES } from './errors.js';
import { headerSize } from './headerSize.js';

// A 4x3 RGB image with twelve distinct colours, written by hand.
const W = 4;
const H = 3;
const PIXELS = Uint8Array.from(
  [
    [255, 0, 0],
    [0, 255, 0],
    [0, 0, 255],
    [255, 255, 0],
    [0, 255, 255],
    [255, 0, 255],
    [10, 20, 30],
    [200, 100, 50],
    [0, 0, 0],
    [255, 255, 255],
    [128, 128, 128],
    [64, 32, 16],
  ].flat(),
);
const raw = () => sharp(Buffer.from(PIXELS), { raw: { width: W, height: H, channels: 3 } });

let dir: string;

async function file(name: string, data: Uint8Array | string): Promise<string> {
  const p = path.join(dir, name);
  await writeFile(p, data);
  return p;
}

/** A real 1-bit grayscale PNG of `size` x `size` zero pixels: tiny on disk, huge decoded. */
function pngBomb(size: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf: Buffer) => {
    let c = 0xffffffff;
    for (const byte of buf) c = (crcTable[(c ^ byte) & 0xff] as number) ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), body.length + 4);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([1, 0, 0, 0, 0], 8); // bit depth 1, grayscale
  const rows = Buffer.alloc((1 + Math.ceil(size / 8)) * size);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('decodeImage', () => {
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'patches-decode-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('decodes lossless PNG (8-bit, 16-bit, palette), WebP, GIF and TIFF to the exact pixels', async () => {
    const encoded: Record<string, Buffer> = {
      png8: await raw().png().toBuffer(),
      png16: await raw().toColourspace('rgb16').png().toBuffer(),
      palette: await raw().png({ palette: true, colours: 16, dither: 0 }).toBuffer(),
      webp: await raw().webp({ lossless: true }).toBuffer(),
      gif: await raw().gif({ colours: 16, dither: 0 }).toBuffer(),
      tiff: await raw().tiff({ compression: 'lzw' }).toBuffer(),
    };
    expect((await sharp(encoded.png16).metadata()).depth).toBe('ushort');
    for (const [name, bytes] of Object.entries(encoded)) {
      const img = await decodeImage(bytes, { name });
      expect([name, img.width, img.height, img.channels]).toEqual([name, W, H, 3]);
      expect([name, ...img.data]).toEqual([name, ...PIXELS]);
    }
  });

  it('decodes the first frame of an animated GIF', async () => {
    const second = Uint8Array.from(PIXELS, (v) => 255 - v);
    const gif = await sharp(Buffer.concat([PIXELS, second]), { raw: { width: W, height: 2 * H, channels: 3, pageHeight: H } })
      .gif({ colours: 32, dither: 0 })
      .toBuffer();
    expect((await sharp(gif).metadata()).pages).toBe(2);
    const img = await decodeImage(gif);
    expect([img.width, img.height, ...img.data]).toEqual([W, H, ...PIXELS]);
  });

  it('decodes lossy JPEG and AVIF close to the pixels', async () => {
    const big = await raw()
      .resize(W * 16, H * 16, { kernel: 'nearest' })
      .raw()
      .toBuffer();
    const src = () => sharp(big, { raw: { width: W * 16, height: H * 16, channels: 3 } });
    for (const [name, bytes] of Object.entries({
      jpeg: await src().jpeg({ quality: 100, chromaSubsampling: '4:4:4' }).toBuffer(),
      avif: await src().avif({ lossless: true }).toBuffer(),
    })) {
      const img = await decodeImage(bytes, { name });
      expect([img.width, img.height]).toEqual([W * 16, H * 16]);
      // Centre of each 16x16 block against the hand-written colour.
      for (let i = 0; i < W * H; i++) {
        const [bx, by] = [i % W, Math.floor(i / W)];
        const p = ((by * 16 + 8) * W * 16 + bx * 16 + 8) * 3;
        for (let c = 0; c < 3; c++) expect(Math.abs((img.data[p + c] as number) - (PIXELS[i * 3 + c] as number))).toBeLessThanOrEqual(4);
      }
    }
  });

  it('turns grayscale into RGB and flattens alpha onto the background (Pillow alpha_composite)', async () => {
    const gray = await sharp(Buffer.from([0, 100, 200, 255]), { raw: { width: 2, height: 2, channels: 1 } })
      .toColourspace('b-w')
      .png()
      .toBuffer();
    expect([...(await decodeImage(gray)).data]).toEqual([0, 0, 0, 100, 100, 100, 200, 200, 200, 255, 255, 255]);
    const rgba = await sharp(Buffer.from([255, 0, 0, 0, 255, 0, 0, 128, 0, 0, 255, 255, 0, 255, 0, 64]), {
      raw: { width: 2, height: 2, channels: 4 },
    })
      .png()
      .toBuffer();
    // Over white: alpha 0 -> white; 128 -> (255*128 + 255*127)/255 = 255 red, 127 green/blue (rounded).
    expect([...(await decodeImage(rgba)).data]).toEqual([255, 255, 255, 255, 127, 127, 0, 0, 255, 191, 255, 191]);
    // Over a chosen background [0, 0, 100]: 128 -> red 128, blue round(100 * 127 / 255) = 50.
    expect([...(await decodeImage(rgba, { background: [0, 0, 100] })).data]).toEqual([0, 0, 100, 128, 0, 50, 0, 0, 255, 0, 64, 75]);
    expect([...rawToRgb({ data: Uint8Array.from([50, 0, 50, 255]), width: 2, height: 1, channels: 2 }).data]).toEqual([
      255, 255, 255, 50, 50, 50,
    ]);
  });

  it('converts CMYK JPEG to RGB', async () => {
    const cmyk = await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 255, g: 0, b: 0 } } })
      .toColourspace('cmyk')
      .jpeg({ quality: 100 })
      .toBuffer();
    expect((await sharp(cmyk).metadata()).space).toBe('cmyk');
    const img = await decodeImage(cmyk);
    expect(img.channels).toBe(3);
    const [r, g, b] = img.data;
    expect(r).toBeGreaterThan(200);
    expect(g).toBeLessThan(60);
    expect(b).toBeLessThan(60);
  });

  it('applies EXIF orientation (6: rotate 90 degrees clockwise)', async () => {
    // 32x16: left half red, right half blue. Rotated clockwise, red ends up on top.
    const stored = Buffer.alloc(32 * 16 * 3);
    for (let y = 0; y < 16; y++) for (let x = 0; x < 32; x++) stored.set(x < 16 ? [255, 0, 0] : [0, 0, 255], (y * 32 + x) * 3);
    const jpeg = await sharp(stored, { raw: { width: 32, height: 16, channels: 3 } })
      .jpeg({ quality: 100 })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const img = await decodeImage(jpeg);
    expect([img.width, img.height]).toEqual([16, 32]);
    const at = (x: number, y: number) => [...img.data.subarray((y * 16 + x) * 3, (y * 16 + x) * 3 + 3)];
    expect(at(8, 4)[0]).toBeGreaterThan(200);
    expect(at(8, 28)[2]).toBeGreaterThan(200);
  });

  it('reads JPEG/PNG sizes from headers as sharp does (EXIF orientation included)', async () => {
    const fixtures = path.join(import.meta.dirname, '../test/fixtures');
    const files = ['photos/HappyFish.jpg', 'photos/home.jpg', 'photos/squirrel_cls.jpg', 'emoji/1f436.png'].map((f) =>
      path.join(fixtures, f),
    );
    const buffers = [...(await Promise.all(files.map((f) => sharp(f).toBuffer())))];
    for (const orientation of [3, 6, 8]) buffers.push(await raw().jpeg().withMetadata({ orientation }).toBuffer());
    buffers.push(await raw().png().withMetadata({ orientation: 6 }).toBuffer());
    for (const [k, b] of buffers.entries()) {
      const meta = await sharp(b).metadata();
      const quick = headerSize(b, meta.format === 'jpeg' ? 'jpeg' : 'png');
      // A PNG carrying EXIF is left to sharp (null).
      if (quick !== null) expect([k, quick]).toEqual([k, meta.autoOrient]);
      else expect([k, meta.format, meta.orientation]).toEqual([k, 'png', 6]);
    }
  });

  it('rasterises SVG at the requested size', async () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="20"><rect width="10" height="10" fill="#00ff00"/></svg>';
    const img = await decodeImage(Buffer.from(svg), { svgShortestEdge: 30 });
    expect([img.width, img.height]).toEqual([30, 60]);
    expect([...img.data.subarray(0, 3)]).toEqual([0, 255, 0]);
    // The transparent lower half is flattened onto white.
    expect([...img.data.subarray(img.data.length - 3)]).toEqual([255, 255, 255]);
  });

  it('refuses each kind of bad input with a stable code and the path', async () => {
    const jpeg = await raw().jpeg().toBuffer();
    const png = await raw().png().toBuffer();
    const secret = await file('secret.png', png);
    // A minimal 1x1 24-bit BMP (54-byte header + one padded row), written by hand.
    const bmp = Buffer.alloc(58);
    bmp.write('BM', 0, 'ascii');
    bmp.writeUInt32LE(58, 2);
    bmp.writeUInt32LE(54, 10);
    bmp.writeUInt32LE(40, 14);
    bmp.writeInt32LE(1, 18);
    bmp.writeInt32LE(1, 22);
    bmp.writeUInt16LE(1, 26);
    bmp.writeUInt16LE(24, 28);
    const cases: [string, string][] = [
      [await file('truncated.jpg', jpeg.subarray(0, jpeg.length - 20)), INPUT_ERROR_CODES.corrupt],
      [await file('empty.png', ''), INPUT_ERROR_CODES.empty],
      [
        await file(
          'random.bin',
          Uint8Array.from({ length: 1000 }, (_, i) => (i * 7919 + 13) % 251),
        ),
        INPUT_ERROR_CODES.unrecognized,
      ],
      [await file('notes.png', 'this is a text file, not a PNG\n'), INPUT_ERROR_CODES.unrecognized],
      [await file('bomb.png', pngBomb(20000)), INPUT_ERROR_CODES.tooLarge],
      [
        await file(
          'external.svg',
          `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="8" height="8"><image xlink:href="${secret}" width="8" height="8"/></svg>`,
        ),
        INPUT_ERROR_CODES.externalReference,
      ],
      [
        await file(
          'css.svg',
          '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8" style="fill: url(http://example.com/x.svg#p)"/></svg>',
        ),
        INPUT_ERROR_CODES.externalReference,
      ],
      [
        await file(
          'entity.svg',
          '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><text>&x;</text></svg>',
        ),
        INPUT_ERROR_CODES.externalReference,
      ],
      [await file('image.bmp', bmp), INPUT_ERROR_CODES.unsupported],
      [await file('doc.pdf', '%PDF-1.4\n%\xe2\xe3\n1 0 obj\n<<>>\nendobj\n'), INPUT_ERROR_CODES.unsupported],
      [path.join(dir, 'does-not-exist.jpg'), INPUT_ERROR_CODES.notFound],
      [dir, INPUT_ERROR_CODES.notFound],
    ];
    for (const [p, code] of cases) {
      const error = await decodeImage(p).then(
        () => null,
        (e: unknown) => e,
      );
      expect([path.basename(p), error]).toEqual([path.basename(p), expect.objectContaining({ code, details: { path: p } })]);
      expect((error as Error).message).toContain(p);
    }
  });

  it('applies a custom pixel limit from the header and keeps raw input as is', async () => {
    const png = await raw().png().toBuffer();
    await expect(decodeImage(png, { maxPixels: 11, name: 'tiny-limit' })).rejects.toMatchObject({
      code: INPUT_ERROR_CODES.tooLarge,
      details: { path: 'tiny-limit' },
    });
    const same = await decodeImage({ data: PIXELS, width: W, height: H, channels: 3 });
    expect([...same.data]).toEqual([...PIXELS]);
  });
});
