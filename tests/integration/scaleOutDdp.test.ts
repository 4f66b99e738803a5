import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { initBackend, tf } from '@tessera/core';
import { writeManifest, writeShards } from '@tessera/data';
import { createModel, exportHf, loadModel, saveModel, textTensors } from '@tessera/models';
import { ImageProcessor } from '@tessera/patches';
import { trainWordPieceTokenizer } from '@tessera/tokenizer';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The scale-out recipe end to end: a Tessera CLIP exported to Hugging Face, trained further by
// examples/scale-out/train_ddp.py under torchrun with 2 CPU ranks (gloo) on Tessera's WebDataset
// shards, and the folder it saves read back by Tessera with PyTorch's features (within 1e-4).

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT = path.join(ROOT, 'examples/scale-out/train_ddp.py');
const COLOURS: Record<string, [number, number, number]> = {
  red: [220, 30, 30],
  green: [30, 200, 40],
  blue: [30, 40, 220],
  yellow: [230, 220, 30],
  black: [10, 10, 10],
  white: [245, 245, 245],
  purple: [140, 30, 170],
  orange: [240, 140, 20],
};
const SHAPES = ['square', 'stripes'] as const;

let python: string;
let dir: string;

/** A 32x32 PNG: a solid colour, or that colour in horizontal stripes on grey. */
function png(rgb: [number, number, number], shape: (typeof SHAPES)[number]): Promise<Buffer> {
  const pixels = Buffer.alloc(32 * 32 * 3);
  for (let y = 0; y < 32; y++)
    for (let x = 0; x < 32; x++) {
      const on = shape === 'square' || Math.floor(y / 4) % 2 === 0;
      pixels.set(on ? rgb : [128, 128, 128], (y * 32 + x) * 3);
    }
  return sharp(pixels, { raw: { width: 32, height: 32, channels: 3 } })
    .png()
    .toBuffer();
}

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  dir = await mkdtemp(path.join(tmpdir(), 'tessera-ddp-'));
  const setup = await run('bash', [path.join(ROOT, 'tools/python/setup-reference-env.sh')], { maxBuffer: 1 << 24 });
  python = setup.stdout.trim().split('\n').at(-1) as string;
}, 600_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('examples/scale-out/train_ddp.py', () => {
  it('trains an exported Tessera CLIP on 2 ranks with disjoint shards, and Tessera reads the result', async () => {
    // 16 pairs in 4 shards of 4: shards 0 and 2 go to rank 0, 1 and 3 to rank 1.
    const rows = [];
    for (const shape of SHAPES)
      for (const [name, rgb] of Object.entries(COLOURS)) {
        const file = `${name}-${shape}.png`;
        await writeFile(path.join(dir, file), await png(rgb, shape));
        rows.push({ image: file, captions: [{ text: `a ${name} ${shape}` }] });
      }
    await writeManifest(path.join(dir, 'pairs.jsonl'), rows);
    const { shards } = await writeShards({ manifest: path.join(dir, 'pairs.jsonl'), outDir: path.join(dir, 'shards'), perShard: 4 });
    expect(shards).toHaveLength(4);

    const tokenizer = trainWordPieceTokenizer(
      rows.map((r) => r.captions[0]?.text as string),
      { vocabSize: 100 },
    );
    tokenizer.setTruncation({ maxLength: 16 });
    const created = createModel('clip-tiny-hf', { vocabSize: tokenizer.vocabSize, eosTokenId: tokenizer.specialTokens.sep?.id, seed: 5 });
    const tesseraDir = path.join(dir, 'tessera-model');
    await saveModel(tesseraDir, {
      ...created,
      tokenizer,
      processor: new ImageProcessor({ size: { shortest_edge: 32 }, crop_size: { height: 32, width: 32 } }),
    });
    created.model.dispose();
    const initial = await loadModel(tesseraDir);
    await exportHf(initial, path.join(dir, 'hf'));
    initial.model.dispose();

    const captions = ['a red square', 'a blue stripes', 'a white square'];
    const images = [path.join(dir, 'red-square.png'), path.join(dir, 'purple-stripes.png')];
    await writeFile(path.join(dir, 'fixed.json'), JSON.stringify({ captions, images }));
    const torchrun = path.join(path.dirname(python), 'torchrun');
    const args = [
      '--standalone',
      '--nproc_per_node',
      '2',
      SCRIPT,
      '--init',
      path.join(dir, 'hf'),
      '--shards',
      path.join(dir, 'shards/shard-{000000..000003}.tar'),
    ];
    args.push('--steps', '80', '--batch-size', '4', '--lr', '3e-3', '--out', path.join(dir, 'trained'));
    args.push('--log-json', path.join(dir, 'log.json'), '--dump-embeddings', path.join(dir, 'fixed.json'));
    try {
      // 12 s on an idle 2-core machine, minutes when other jobs hold the cores. The timeout kills
      // torchrun (which stops its ranks) before the test's own limit, so no rank outlives the test.
      await run(torchrun, args, { env: { ...process.env, OMP_NUM_THREADS: '1' }, maxBuffer: 1 << 24, timeout: 270_000 });
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string };
      throw new Error(`train_ddp.py failed:\n${e.stdout}\n${e.stderr}`);
    }

    const log = JSON.parse(await readFile(path.join(dir, 'log.json'), 'utf8')) as { shards: string[][]; losses: number[]; backend: string };
    expect(log.backend).toBe('gloo');
    expect(log.shards).toEqual([
      [shards[0], shards[2]],
      [shards[1], shards[3]],
    ]);
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    const first = mean(log.losses.slice(0, 5));
    const last = mean(log.losses.slice(-5));
    // ln 8 (chance over the global batch of 8) at the start; memorised pairs score far lower.
    expect(first).toBeGreaterThan(1.5);
    expect(last).toBeLessThan(first * 0.5);

    const trained = await loadModel(path.join(dir, 'trained'));
    const torchOut = JSON.parse(await readFile(path.join(dir, 'trained/embeddings.json'), 'utf8')) as {
      image_features: number[][];
      text_features: number[][];
    };
    const { model, config, processor } = trained;
    if (!trained.tokenizer || !processor || !('text' in config) || !('vision' in config))
      throw new Error('the trained folder lacks a part');
    const { ids, mask } = textTensors(trained.tokenizer, captions, config.text.maxPositions);
    const parts = await Promise.all(images.map((f) => processor.preprocess(f)));
    const [h, w] = processor.outputSize;
    const pixels = tf.tensor4d(Float32Array.from(parts.flatMap((p) => Array.from(p.data))), [images.length, 3, h, w]);
    const text = model.encodeText(ids, mask, { normalize: false });
    const image = model.encodeImage(pixels, { normalize: false });
    const maxDiff = (t: tf.Tensor, want: number[][]) => {
      const got = t.arraySync() as number[][];
      expect(got.length).toBe(want.length);
      return Math.max(...got.flatMap((row, i) => row.map((v, j) => Math.abs(v - (want[i]?.[j] as number)))));
    };
    expect(maxDiff(text, torchOut.text_features)).toBeLessThan(1e-4);
    expect(maxDiff(image, torchOut.image_features)).toBeLessThan(1e-4);
    tf.dispose([ids, mask, pixels, text, image]);
    model.dispose();
  }, 300_000);
});
