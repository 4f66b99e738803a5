import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { initBackend, tf } from '@tessera/core';
import { readManifest } from '@tessera/data';
import { buildEmojiDataset } from '@tessera/dataset-emoji';
import { padTokenId } from '@tessera/models';
import { ImageProcessor } from '@tessera/patches';
import { trainWordPieceTokenizer } from '@tessera/tokenizer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContrastiveSource } from './contrastiveSource.js';
import { type PreparedPair, preparePairs } from './pairs.js';
import { augmentSchema } from './runConfig.js';

let dir: string;
let pairs: PreparedPair[];
let tokenizer: ReturnType<typeof trainWordPieceTokenizer>;
const processor = new ImageProcessor({ size: { shortest_edge: 16 }, crop_size: { height: 16, width: 16 } });

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  dir = await mkdtemp(path.join(tmpdir(), 'tessera-source-'));
  const built = await buildEmojiDataset({ outDir: dir, limit: 12 });
  const manifest = await readManifest(built.splits.train.manifest);
  tokenizer = trainWordPieceTokenizer(manifest.records.flatMap((r) => r.captions.map((c) => c.text)));
  pairs = (await preparePairs(manifest.records, tokenizer, 16)).pairs;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const source = (seed = 0) =>
  new ContrastiveSource({
    pairs,
    processor,
    imageSize: 16,
    batchSize: 4,
    languages: ['en', 'zh'],
    augment: augmentSchema.parse({}),
    padId: padTokenId(tokenizer),
    seed,
  });

describe('ContrastiveSource', () => {
  it('gives one caption per language per image, marked in the positives mask', async () => {
    const s = source();
    const batch = await s.next();
    expect(batch?.images.shape).toEqual([4, 3, 16, 16]);
    expect(batch?.ids.shape[0]).toBe(8);
    // Image i owns texts 2i (en) and 2i + 1 (zh).
    const pos = batch?.positives.arraySync() as number[][];
    expect(pos.map((row) => row.map((v, j) => (v ? j : -1)).filter((j) => j >= 0))).toEqual([
      [0, 1],
      [2, 3],
      [4, 5],
      [6, 7],
    ]);
    s.dispose();
  });

  it('replays the same batches after restore, drops the last partial batch, and frees what it made', async () => {
    const before = tf.memory().numTensors;
    const s = source(5);
    expect(s.batchesPerEpoch).toBe(Math.floor(pairs.length / 4));
    await s.next();
    const state = s.state();
    const a = await s.next();
    const first = [Array.from(a?.images.dataSync() ?? []), Array.from(a?.ids.dataSync() ?? [])];
    s.restore(state);
    const b = await s.next();
    expect([Array.from(b?.images.dataSync() ?? []), Array.from(b?.ids.dataSync() ?? [])]).toEqual(first);
    let n = 2;
    while ((await s.next()) !== null) n++;
    expect(n).toBe(s.batchesPerEpoch);
    s.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
