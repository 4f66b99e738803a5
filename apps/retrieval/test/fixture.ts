import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createModel, type ModelConfigInput, saveModel } from '@tessera/models';
import { trainWordPieceTokenizer } from '@tessera/tokenizer';
import sharp from 'sharp';

/** A CLIP small enough for tests: 16 px images in 8 px patches, one layer per tower (vocabSize set by createModel's option). */
export const TINY_CLIP: ModelConfigInput = {
  type: 'clip',
  embedDim: 8,
  vision: { imageSize: 16, patchSize: 8, dim: 16, numHeads: 2, numLayers: 1 },
  text: { vocabSize: 1, maxPositions: 16, dim: 16, numHeads: 2, numLayers: 1, pooling: 'mean' },
};

/** Solid-colour test images (name -> RGB), written as 16x16 PNGs. */
export const COLOURS: Record<string, [number, number, number]> = {
  'red.png': [230, 20, 30],
  'blue.png': [20, 40, 220],
  'green.png': [30, 200, 40],
  'sub/yellow.png': [240, 230, 20],
  'sub/black.png': [5, 5, 5],
};

export const CAPTIONS = ['a red heart', 'a blue circle', 'a green square', 'a yellow star', 'black', '红心', '蓝色圆圈', '绿色'];

export function pngOf(rgb: [number, number, number], size = 16): Promise<Buffer> {
  return sharp({ create: { width: size, height: size, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } })
    .png()
    .toBuffer();
}

export interface Fixture {
  dir: string;
  model: string;
  images: string;
  /** A file outside the image folder that must never be served. */
  secret: string;
}

/** A tiny saved CLIP (random weights, WordPiece vocabulary of the captions) and an image folder with two bad files. */
export async function makeFixture(): Promise<Fixture> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tessera-retrieval-'));
  const tokenizer = trainWordPieceTokenizer(CAPTIONS);
  const { model, config } = createModel(
    {
      type: 'clip',
      embedDim: 16,
      vision: { imageSize: 8, patchSize: 4, dim: 16, numHeads: 2, numLayers: 1, mlpDim: 32 },
      text: { vocabSize: tokenizer.vocabSize, maxPositions: 16, dim: 16, numHeads: 2, numLayers: 1, mlpDim: 32, pooling: 'mean' },
      seed: 5,
    },
    {},
  );
  const modelDir = path.join(dir, 'model');
  await saveModel(modelDir, { model, config, tokenizer });
  model.dispose();
  const images = path.join(dir, 'images');
  await mkdir(path.join(images, 'sub'), { recursive: true });
  for (const [name, rgb] of Object.entries(COLOURS)) await writeFile(path.join(images, name), await pngOf(rgb));
  await writeFile(path.join(images, 'broken.png'), 'this is not a png');
  await writeFile(path.join(images, 'empty.jpg'), '');
  await writeFile(path.join(images, 'notes.txt'), 'ignored: not an image extension');
  const secret = path.join(dir, 'secret.png');
  await writeFile(secret, await pngOf([1, 2, 3]));
  return { dir, model: modelDir, images, secret };
}
