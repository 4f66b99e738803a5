import { mkdir, mkdtemp, open, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readManifest, writeManifest } from './manifest.js';
import type { DataRecord } from './record.js';
import { readShard, resolveShards, splitKey, writeShards } from './shards.js';
import { SkipCounter } from './skipCounter.js';
import { readTar, TarWriter } from './tar.js';

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
    // Each sample also has the .txt caption open_clip reads, after its image and json.
    const members: string[] = [];
    for await (const e of readTar(result.shards[0] as string))
      members.push(`${e.name}=${e.name.endsWith('.txt') ? new TextDecoder().decode(e.data) : e.data.length}`);
    expect(members).toEqual([
      '000000000.png=100',
      expect.stringMatching(/^000000000\.json=/),
      '000000000.txt=image 0',
      '000000001.png=400',
      expect.stringMatching(/^000000001\.json=/),
      '000000001.txt=image 1',
    ]);
    // Written atomically: no temp files left behind.
    expect((await readdir(outDir)).some((n) => n.includes('.tmp-'))).toBe(false);
  });

  it('keeps the samples before a truncation and counts the broken one', async () => {
    const manifestPath = await makeManifest('t');
    const { shards } = await writeShards({ manifest: manifestPath, outDir: path.join(dir, 't', 'shards'), perShard: 10 });
    const shard = shards[0] as string;
    // Samples im0 (100 B) and im1 (400 B) take 6 blocks each (header + data for the image,
    // the json and the txt); im2 (700 B) follows: cut inside its image data.
    const cut = 12 * 512 + 512 + 300;
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

  it("reads img2dataset's layout: caption from .txt, its json fields as meta", async () => {
    const skips = new SkipCounter();
    const records = await readAll(await resolveShards(path.join(fixtures, 'img2dataset', '{00000..00001}.tar')), skips);
    expect(records.map((r) => [r.key, r.image.ext, r.captions])).toEqual([
      ['000000000', 'jpg', [{ text: 'a red square' }]],
      ['000000001', 'jpg', [{ text: 'a green square' }]],
      ['000000002', 'png', [{ text: 'a blue square' }]],
      ['000010000', 'png', [{ text: 'a yellow square' }]],
      ['000010001', 'jpg', [{ text: 'a cyan square' }]],
    ]);
    expect(records[0]?.meta).toMatchObject({
      url: 'https://example.com/000000000.jpg',
      key: '000000000',
      status: 'success',
      width: 4,
      height: 3,
    });
    // JPEG and PNG signatures: the image bytes are the files PIL wrote.
    const bytes = (i: number) => [...((records[i] as DataRecord).image as { bytes: Uint8Array }).bytes];
    expect(bytes(0).slice(0, 2)).toEqual([0xff, 0xd8]);
    expect(bytes(2).slice(1, 4)).toEqual([0x50, 0x4e, 0x47]);
    expect(skips.total).toBe(0);
  });

  it('takes .txt over the json caption, the json caption without .txt, and json captions (Tessera) over .txt', async () => {
    const file = path.join(dir, 'priority.tar');
    const handle = await open(file, 'w');
    const writer = new TarWriter(handle);
    const enc = (v: unknown) => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));
    await writer.add('a.png', enc('x'));
    await writer.add('a.txt', enc('from txt'));
    await writer.add('a.json', enc({ caption: 'from json' }));
    await writer.add('b.png', enc('x'));
    await writer.add('b.json', enc({ caption: 'only json' }));
    await writer.add('c.png', enc('x'));
    await writer.add('c.txt', enc('first'));
    await writer.add(
      'c.json',
      enc({
        captions: [
          { text: 'first', lang: 'en' },
          { text: '第一', lang: 'zh' },
        ],
      }),
    );
    await writer.finish();
    await handle.close();
    const records = await readAll([file]);
    expect(records.map((r) => r.captions)).toEqual([
      [{ text: 'from txt' }],
      [{ text: 'only json' }],
      [
        { text: 'first', lang: 'en' },
        { text: '第一', lang: 'zh' },
      ],
    ]);
  });

  it('skips a truncated img2dataset shard part way, counts it, and goes on with the next', async () => {
    const cut = path.join(dir, '00000-cut.tar');
    // Python tarfile's offsets: sample 2's png data starts at byte 7680 of 00000.tar.
    await writeFile(cut, (await readFile(path.join(fixtures, 'img2dataset', '00000.tar'))).subarray(0, 7700));
    const skips = new SkipCounter();
    const records = await readAll([cut, path.join(fixtures, 'img2dataset', '00001.tar')], skips);
    expect(records.map((r) => r.key)).toEqual(['000000000', '000000001', '000010000', '000010001']);
    expect(skips.counts()).toEqual({ truncated_shard: 1 });
    expect(skips.toString()).toBe('1 skipped (1 truncated_shard)');
  });

  it('fails with E_IO when there are no shards to read', async () => {
    await expect(resolveShards(path.join(dir, 'none'))).rejects.toMatchObject({ code: 'E_IO' });
  });
});
