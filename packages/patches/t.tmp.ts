import { readdirSync } from 'node:fs';
import { initBackend } from '@tessera/core';
import sharp from 'sharp';
import { imageBatchLoader } from './src/batchLoader.js';
import { ImageProcessor } from './src/imageProcessor.js';

await initBackend({ backend: 'wasm' });
const files = readdirSync('/tmp/pt/files')
  .filter((f) => f.endsWith('.jpg'))
  .map((f) => `/tmp/pt/files/${f}`)
  .concat(
    readdirSync('/tmp/pt/files')
      .filter((f) => f.endsWith('.jpg'))
      .map((f) => `/tmp/pt/files/${f}`),
  );
const t = async (label: string, f: () => Promise<unknown>) => {
  await f();
  let best = 0;
  for (let r = 0; r < 3; r++) {
    const s = performance.now();
    await f();
    best = Math.max(best, files.length / ((performance.now() - s) / 1000));
  }
  console.log(label, best.toFixed(0), 'img/s');
};
for (const vips of [2, 1]) {
  sharp.concurrency(vips);
  for (const engine of ['pillow', 'libvips'] as const)
    for (const conc of [2, 4, 8]) {
      const p = ImageProcessor.fromConfig({ size: 224, crop_size: 224 }, { resizeEngine: engine });
      await t(`vips ${vips} 224 ${engine} conc ${conc}`, async () => {
        for await (const b of imageBatchLoader(files, p, { batchSize: 16, concurrency: conc, logSummary: false })) b.pixels.dispose();
      });
    }
}
