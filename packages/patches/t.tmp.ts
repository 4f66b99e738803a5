import { readdirSync, readFileSync } from 'node:fs';
import sharp from 'sharp';
import { imageBatchLoader } from './src/batchLoader.js';
import { ImageProcessor } from './src/imageProcessor.js';

const files = readdirSync('/tmp/pt/files')
  .filter((f) => f.endsWith('.jpg'))
  .map((f) => `/tmp/pt/files/${f}`);
const bufs = files.map((f) => readFileSync(f));
const t = async (label: string, f: () => Promise<unknown>) => {
  await f();
  const s = performance.now();
  for (let r = 0; r < 5; r++) await f();
  console.log(label, ((performance.now() - s) / 5 / files.length).toFixed(2), 'ms/img');
};
await t('sharp metadata', async () => {
  for (const b of bufs) await sharp(b).metadata();
});
await t('sharp decode raw', async () => {
  for (const b of bufs) await sharp(b).raw().toBuffer();
});
await t('sharp decode+resize 64 raw', async () => {
  for (const b of bufs) await sharp(b).resize(85, 64, { fit: 'fill', kernel: 'cubic', fastShrinkOnLoad: false }).raw().toBuffer();
});
await t('sharp decode parallel 4', async () => {
  for (let i = 0; i < bufs.length; i += 4) await Promise.all(bufs.slice(i, i + 4).map((b) => sharp(b).raw().toBuffer()));
});
for (const c of [2, 1]) {
  sharp.concurrency(c);
  await t(`sharp decode parallel 4, vips threads ${c}`, async () => {
    for (let i = 0; i < bufs.length; i += 4) await Promise.all(bufs.slice(i, i + 4).map((b) => sharp(b).raw().toBuffer()));
  });
}
for (const engine of ['pillow', 'libvips'] as const)
  for (const conc of [2, 4]) {
    const p = ImageProcessor.fromConfig({ size: 64, crop_size: 64 }, { resizeEngine: engine });
    await t(`loader 64 ${engine} conc ${conc}`, async () => {
      for await (const b of imageBatchLoader(files, p, { batchSize: 16, concurrency: conc, logSummary: false })) b.pixels.dispose();
    });
  }
