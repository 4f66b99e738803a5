import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { initBackend, isTesseraError, tf } from '@tessera/core';
import { ImageProcessor } from '@tessera/patches';
import { trainWordPieceTokenizer } from '@tessera/tokenizer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TINY_CLIP, tinyBatch } from '../test/tiny.js';
import type { DualEncoder } from './dualEncoder.js';
import { loadModel, saveModel } from './modelDirectory.js';
import { createModel } from './registry.js';

let dir: string;
beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  dir = await mkdtemp(path.join(tmpdir(), 'tessera-models-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('model directories', () => {
  it('round-trips weights, config, tokenizer and preprocessor, giving identical outputs', async () => {
    const tokenizer = trainWordPieceTokenizer(['a red apple', 'un chat', '红色的苹果']);
    const { model, config } = createModel(TINY_CLIP, { vocabSize: tokenizer.vocabSize });
    const processor = new ImageProcessor({ size: { shortest_edge: 8 }, crop_size: { height: 8, width: 8 } });
    const out = path.join(dir, 'clip');
    await saveModel(out, { model, config, tokenizer, processor });
    const loaded = await loadModel(out);
    expect(loaded.config).toEqual(config);
    expect(loaded.tokenizer?.encode('红色 apple').ids).toEqual(tokenizer.encode('红色 apple').ids);
    expect(loaded.processor?.config).toEqual(processor.config);
    const a = model.namedParameters();
    for (const [name, p] of loaded.model.namedParameters()) {
      expect(Array.from(p.variable.dataSync())).toEqual(Array.from(a.get(name)?.variable.dataSync() ?? []));
    }
    const b = tinyBatch(3, 8, 4, tokenizer.vocabSize);
    const e1 = (model as DualEncoder).encodeImage(b.images);
    const e2 = (loaded.model as DualEncoder).encodeImage(b.images);
    expect(Array.from(e2.dataSync())).toEqual(Array.from(e1.dataSync()));
    tf.dispose([e1, e2, b.images, b.ids, b.mask]);
    model.dispose();
    loaded.model.dispose();
  });

  it('says what is missing', async () => {
    await expect(loadModel(path.join(dir, 'nowhere'))).rejects.toThrow(/config\.json/);
    const half = path.join(dir, 'half');
    const { model, config } = createModel(TINY_CLIP);
    await saveModel(half, { model, config });
    await rm(path.join(half, 'model.safetensors'));
    await expect(loadModel(half)).rejects.toThrow(/model\.safetensors is missing/);
    await writeFile(path.join(half, 'config.json'), JSON.stringify({ ...config, embedDim: -1 }));
    try {
      await loadModel(half);
      expect.unreachable();
    } catch (error) {
      expect(isTesseraError(error, 'E_CONFIG')).toBe(true);
      expect((error as Error).message).toContain('embedDim');
    }
    model.dispose();
  });
});
