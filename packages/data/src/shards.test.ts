import { mkdir, mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readManifest, writeManifest } from './manifest.js';
import type { DataRecord } from './record.js';
import { readShard, resolveShards, splitKey, writeShards } from './shards.js';
import { SkipCounter } from './skipCounter.js';

const fixtures = path.join(import.meta.dirname, '..', 'test', 'fixtures');
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tessera-shards-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function readAll(files: string[], skips = new SkipCounter()): Promise<DataRecord[]> {
  const out: DataRecord[] = [];
  for (const f of files) for await (const r of readShard(f, skips)) out.push(r);
  return out;
}

/** Five images of distinct sizes with captions; image 3 is listed but missing on disk. */
async function makeManifest(sub: string): Promise<string> {
  const root = path.join(dir, sub);
  await mkdir(root, { recursive: true });
  const rows = [];
  for (let i = 0; i < 5; i++) {
    if (i !== 3) await writeFile(path.join(root, `im${i}.png`), new Uint8Array(100 + 300 * i).fill(i + 1));
    rows.push({
      image: `im${i}.png`,
      captions: [
        { text: `image ${i}`, lang: 'en' },
        { text: `图 ${i}`, lang: 'zh' },
      ],
      split: i % 2 ? 'test' : 'train',
      n: i,
    });
  }
  const file = path.join(root, 'm.jsonl');
  await writeManifest(file, rows);
  return file;
}

describe('WebDataset shards', () => {
  it('splits member names into key and extension as WebDataset does', () => {
    expect(splitKey('a/b.c.png')).toEqual(['a/b', 'c.png']);
    expect(splitKey('dir.x/000001.json')).toEqual(['dir.x/000001', 'json']);
  });

  it('reads samples of a Python-written shard (json captions with languages, txt captions via pax names)', async () => {
    const records = await readAll([path.join(fixtures, 'python-ustar.tar'), path.join(fixtures, 'python-pax.tar')]);
    expect(records.map((r) => [r.key, r.image.ext, r.captions, r.split])).toEqual([
      [
        '000000000',
        'png',
        [
          { text: 'dog face', lang: 'en' },
          { text: '狗脸', lang: 'zh' },
        ],
        'train',
      ],
      ['000000001', 'jpg', [{ text: 'a red apple', lang: 'en' }], undefined],
      [JSON.parse(await readFile(path.join(fixtures, 'python-members.json'), 'utf8')).paxKey, 'png', [{ text: '一只红苹果' }], undefined],
    ]);
  });

  it('writes shards of perShard samples that read back to the manifest, and removes stale shards', async () => {
    const manifestPath = await makeManifest('w');
    const outDir = path.join(dir, 'w', 'shards');
    await mkdir(outDir, { recursive: true });
    await writeFile(path.join(outDir, 'shard-000007.tar'), 'stale');
    const progress: number[] = [];
    const result = await writeShards({ manifest: manifestPath, outDir, perShard: 2, onSample: (done) => progress.push(done) });
    expect(result.samples).toBe(4);
    expect(result.skipped.counts()).toEqual({ missing_image: 1 });
    expect(progress).toEqual([1, 2, 3, 4, 5]);
    expect((await readdir(outDir)).sort()).toEqual(['shard-000000.tar', 'shard-000001.tar']);
    expect(await resolveShards(outDir)).toEqual(result.shards);
    expect(await resolveShards(path.join(outDir, 'shard-{000000..000001}.tar'))).toEqual(result.shards);

    const manifest = await readManifest(manifestPath);
    const expected = manifest.records.filter((r) => r.key !== 'im3.png');
    const back = await readAll(result.shards);
    expect(back.map((r) => r.key)).toEqual(['000000000', '000000001', '000000002', '000000003']);
    for (const [i, r] of back.entries()) {
      const src = expected[i] as DataRecord;
      expect(r.captions).toEqual(src.captions);
      expect(r.split).toBe(src.split);
      expect(r.meta).toEqual({ ...src.meta, source: src.key });
      expect(Buffer.from((r.image as { bytes: Uint8Array }).bytes).equals(await readFile((src.image as { path: string }).path))).toBe(true);
    }
    // Written atomically: no temp files left behind.
    expect((await readdir(outDir)).some((n) => n.includes('.tmp-'))).toBe(false);
  });

  it('keeps the samples before a truncation and counts the broken one', async () => {
    const manifestPath = await makeManifest('t');
    const { shards } = await writeShards({ manifest: manifestPath, outDir: path.join(dir, 't', 'shards'), perShard: 10 });
    const shard = shards[0] as string;
    // Samples im0 (100 B) and im1 (400 B) take 4 blocks each (header, data, header, json);
    // im2 (700 B) follows: cut inside its image data.
    const cut = 8 * 512 + 512 + 300;
    expect((await stat(shard)).size).toBeGreaterThan(cut);
    await truncate(shard, cut);
    const skips = new SkipCounter();
    const back = await readAll([shard], skips);
    expect(back.map((r) => r.meta.source)).toEqual(['im0.png', 'im1.png']);
    expect(skips.counts()).toEqual({ truncated_shard: 1 });
  });

  it('counts a missing or corrupt shard and goes on with the next', async () => {
    const garbage = path.join(dir, 'garbage.tar');
    await writeFile(garbage, new Uint8Array(1024).fill(7));
    const skips = new SkipCounter();
    const back = await readAll([path.join(dir, 'missing.tar'), garbage, path.join(fixtures, 'python-ustar.tar')], skips);
    expect(back).toHaveLength(2);
    expect(skips.counts()).toEqual({ corrupt_shard: 1, missing_shard: 1 });
  });

  it('fails with E_IO when there are no shards to read', async () => {
    await expect(resolveShards(path.join(dir, 'none'))).rejects.toMatchObject({ code: 'E_IO' });
  });
});
