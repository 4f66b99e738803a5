import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { initBackend } from '@tessera/core';
import { createModel, saveModel } from '@tessera/models';
import { ImageProcessor } from '@tessera/patches';
import { trainWordPieceTokenizer } from '@tessera/tokenizer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pngOf, TINY_CLIP } from '../test/fixture.js';
import { finetuneClassifier } from './finetune.js';

let dir: string;

/** A manifest of solid-colour PNGs whose `colour` field is their class. */
async function solidColours(name: string, colours: Record<string, [number, number, number]>, each: number): Promise<string> {
  await mkdir(path.join(dir, name), { recursive: true });
  const rows: string[] = [];
  for (const [colour, rgb] of Object.entries(colours)) {
    for (let i = 0; i < each; i++) {
      const file = `${name}/${colour}-${i}.png`;
      await writeFile(path.join(dir, file), await pngOf(rgb));
      rows.push(JSON.stringify({ image: file, captions: [{ text: `a ${colour} square`, lang: 'en' }], colour }));
    }
  }
  const manifest = path.join(dir, `${name}.jsonl`);
  await writeFile(manifest, `${rows.join('\n')}\n`);
  return manifest;
}

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  dir = await mkdtemp(path.join(tmpdir(), 'tessera-finetune-'));
  const tokenizer = trainWordPieceTokenizer(['a red square', 'a blue square']);
  const { model, config } = createModel(TINY_CLIP, { vocabSize: tokenizer.vocabSize });
  const processor = new ImageProcessor({ size: { shortest_edge: 16 }, crop_size: { height: 16, width: 16 } });
  await saveModel(path.join(dir, 'model'), { model, config, tokenizer, processor });
  model.dispose();
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('finetuneClassifier', () => {
  it('separates two classes of solid colours perfectly (accuracy 1 on held-out shades)', async () => {
    const train = await solidColours('train', { red: [230, 20, 20], blue: [20, 20, 230] }, 4);
    const held = await solidColours('test', { red: [200, 40, 30], blue: [30, 40, 200] }, 3);
    const out = path.join(dir, 'probe');
    const result = await finetuneClassifier({
      checkpoint: path.join(dir, 'model'),
      data: train,
      eval: held,
      labelKey: 'colour',
      outputDir: out,
      freezeEncoder: true,
      progress: false,
      train: { lr: 0.05, epochs: 15, batchSize: 4, warmupSteps: 0, weightDecay: 0 },
    });
    expect(result.classes).toEqual(['blue', 'red']);
    expect(result.accuracy).toBe(1);
    const saved = JSON.parse(await readFile(path.join(out, 'classes.json'), 'utf8'));
    expect(saved).toEqual({ labelKey: 'colour', classes: ['blue', 'red'], accuracy: 1 });
  });

  it('keeps every micro-batch of an accumulated step alive until the step has used it', async () => {
    const train = await solidColours('accumulated', { red: [230, 20, 20], blue: [20, 20, 230] }, 4);
    // Two micro-batches per step: with only the latest batch kept, the first is freed before the gradient.
    const result = await finetuneClassifier({
      checkpoint: path.join(dir, 'model'),
      data: train,
      labelKey: 'colour',
      outputDir: path.join(dir, 'accumulated-out'),
      freezeEncoder: true,
      progress: false,
      train: { lr: 0.05, epochs: 2, batchSize: 2, accumulation: 2, warmupSteps: 0, weightDecay: 0 },
    });
    expect(result.classes).toEqual(['blue', 'red']);
  });
});
