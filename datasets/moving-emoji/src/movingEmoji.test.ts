import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readManifest, readShard, SkipCounter, writeShards } from '@tessera/data';
import { emojiImagePath, loadEmojiConcepts } from '@tessera/dataset-emoji';
import { findFfmpeg } from '@tessera/patches';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildMovingEmojiDataset,
  type ClipObject,
  type ClipSpec,
  clipCaptions,
  encodeMp4,
  MOTIONS,
  planMovingEmojiClips,
  renderClip,
  videoConcepts,
} from './movingEmoji.js';
import { decodePng } from './png.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tessera-video-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const dog: Omit<ClipObject, 'motion' | 'start'> = { concept: '1F436', image: '1f436.png', label: { en: 'dog face', zh: '狗脸' } };
const apple: Omit<ClipObject, 'motion' | 'start'> = { concept: '1F34E', image: '1f34e.png', label: { en: 'red apple', zh: '红苹果' } };

/** Centre of mass of the darkness (255 - mean of r, g, b) of each rgb24 frame. */
function centroids(frames: Uint8Array[], size: number): [number, number][] {
  return frames.map((f) => {
    let sx = 0;
    let sy = 0;
    let sw = 0;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const o = (y * size + x) * 3;
        const w = 255 - ((f[o] as number) + (f[o + 1] as number) + (f[o + 2] as number)) / 3;
        sx += w * (x + 0.5);
        sy += w * (y + 0.5);
        sw += w;
      }
    }
    return [sx / sw, sy / sw];
  });
}

describe('moving-emoji clips', () => {
  it('writes English and Chinese captions for one and two emoji', () => {
    expect(clipCaptions([{ ...dog, motion: 'left', start: [0, 0] }]).map((c) => c.text)).toEqual([
      'a dog face moves to the left',
      'the dog face goes left',
      '狗脸向左移动',
    ]);
    const two = clipCaptions([
      { ...dog, motion: 'left', start: [0, 0] },
      { ...apple, motion: 'up', start: [0, 0] },
    ]);
    expect(two[0]).toEqual({ text: 'a dog face moves to the left while a red apple moves up', lang: 'en' });
    expect(two.filter((c) => c.lang === 'zh').map((c) => c.text)).toEqual([
      '狗脸向左移动，同时红苹果向上移动',
      '红苹果向上移动，狗脸向左移动',
    ]);
  });

  it('holds out pairings: every emoji and motion is in training, test clips show a pairing training never has', async () => {
    const { groups } = await loadEmojiConcepts();
    const concepts = videoConcepts(
      groups.map((g) => g.members[0]!),
      20,
      3,
    );
    expect(concepts).toHaveLength(20);
    expect(concepts.every((c) => c.category !== 'Flags' && !c.label.en.includes(':'))).toBe(true);
    const clips = planMovingEmojiClips(concepts, { outDir: dir, clips: 600, seed: 3 });
    const pairs = (c: ClipSpec) => c.objects.map((o) => `${o.concept}/${o.motion}`);
    const train = clips.filter((c) => c.split === 'train');
    const test = clips.filter((c) => c.split === 'test');
    expect(test.length).toBeGreaterThan(80);
    const trainPairs = new Set(train.flatMap(pairs));
    for (const c of test) expect(trainPairs.has(pairs(c)[0]!)).toBe(false);
    expect(new Set(train.flatMap((c) => c.objects.map((o) => o.concept)))).toEqual(new Set(concepts.map((c) => c.hex)));
    expect(new Set(train.flatMap((c) => c.objects.map((o) => o.motion)))).toEqual(new Set(MOTIONS));
    expect(clips.filter((c) => c.objects.length === 2).length).toBeGreaterThan(200);
    expect(planMovingEmojiClips(concepts, { outDir: dir, clips: 600, seed: 3 })).toEqual(clips);
  });

  it('moves the emoji by the planned distance, and ffmpeg decodes the H.264 file to the same motion', async () => {
    const size = 48;
    const emojiSize = 16;
    const frames = 9;
    const sprites = new Map([['1f436.png', decodePng(new Uint8Array(await readFile(emojiImagePath('google', '1f436.png'))))]]);
    const spec: ClipSpec = { index: 0, split: 'train', objects: [{ ...dog, motion: 'down-right', start: [12, 10] }], captions: [] };
    const rendered = renderClip(spec, sprites, { size, emojiSize, frames });
    const c = centroids(rendered, size);
    // Travel is round(0.45 * (48 - 16)) = 14 px along each axis; the dark-weighted centre moves with the emoji.
    expect(c[frames - 1]![0] - c[0]![0]).toBeCloseTo(14, 0);
    expect(c[frames - 1]![1] - c[0]![1]).toBeCloseTo(14, 0);

    const file = path.join(dir, 'clip.mp4');
    await encodeMp4(rendered, file, { size, fps: 8 });
    const probe = JSON.parse(execFileSync('/usr/bin/ffprobe', ['-v', 'error', '-show_streams', '-of', 'json', file], { encoding: 'utf8' }));
    expect(probe.streams[0]).toMatchObject({
      codec_name: 'h264',
      width: size,
      height: size,
      pix_fmt: 'yuv420p',
      nb_frames: String(frames),
    });
    const raw = execFileSync(findFfmpeg() as string, ['-v', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']);
    const decoded = Array.from(
      { length: raw.length / (size * size * 3) },
      (_, i) => new Uint8Array(raw.subarray(i * size * size * 3, (i + 1) * size * size * 3)),
    );
    expect(decoded).toHaveLength(frames);
    const d = centroids(decoded, size);
    for (let f = 0; f < frames; f++) {
      expect(Math.abs(d[f]![0] - c[f]![0])).toBeLessThan(0.5);
      expect(Math.abs(d[f]![1] - c[f]![1])).toBeLessThan(0.5);
    }
  });

  it('builds a small set with manifests, licences and free reruns; a missing ffmpeg is a typed error', async () => {
    const outDir = path.join(dir, 'set');
    const options = { outDir, clips: 6, concepts: 6, size: 32, emojiSize: 12, frames: 6, seed: 1 };
    const result = await buildMovingEmojiDataset(options);
    expect(result).toMatchObject({ reused: false, encoded: 6 });
    expect(result.counts.train + result.counts.test).toBe(6);
    const all = await readManifest(result.manifests.all);
    expect(all.skipped.total).toBe(0);
    expect(all.records.map((r) => r.key)).toEqual([
      'clips/000000.mp4',
      'clips/000001.mp4',
      'clips/000002.mp4',
      'clips/000003.mp4',
      'clips/000004.mp4',
      'clips/000005.mp4',
    ]);
    expect(all.records[0]?.captions.some((c) => c.lang === 'zh')).toBe(true);
    expect((await readFile((all.records[0]!.image as { path: string }).path)).subarray(4, 8).toString()).toBe('ftyp');
    expect(await readFile(path.join(outDir, 'ATTRIBUTION.md'), 'utf8')).toContain('Apache License');
    expect(await buildMovingEmojiDataset(options)).toMatchObject({ reused: true, encoded: 0 });
    // Clips go through WebDataset shards like images do.
    const { shards } = await writeShards({ manifest: all, outDir: path.join(dir, 'video-shards'), perShard: 4 });
    const back = [];
    for (const s of shards) for await (const r of readShard(s, new SkipCounter())) back.push(r);
    expect(back.map((r) => [r.image.ext, r.captions])).toEqual(all.records.map((r) => ['mp4', r.captions]));
    await expect(
      buildMovingEmojiDataset({ ...options, outDir: path.join(dir, 'x'), ffmpegPath: path.join(dir, 'no-ffmpeg') }),
    ).rejects.toMatchObject({
      code: 'E_FFMPEG_UNAVAILABLE',
    });
  });

  it('encodes with the ffmpeg TESSERA_FFMPEG names, for one clip and for a whole build', async () => {
    const real = findFfmpeg();
    expect(real).not.toBeNull();
    const log = path.join(dir, 'wrapper.log');
    const wrapper = path.join(dir, 'ffmpeg-wrapper.sh');
    await writeFile(wrapper, `#!/bin/sh\necho "$*" >> '${log}'\nexec '${real}' "$@"\n`);
    await chmod(wrapper, 0o755);
    const before = process.env.TESSERA_FFMPEG;
    process.env.TESSERA_FFMPEG = wrapper;
    try {
      const white = Array.from({ length: 3 }, () => new Uint8Array(16 * 16 * 3).fill(255));
      const file = path.join(dir, 'wrapped.mp4');
      await encodeMp4(white, file, { size: 16, fps: 8 });
      const calls = (await readFile(log, 'utf8')).trim().split('\n');
      expect(calls).toHaveLength(1);
      expect(calls[0]).toContain('-c:v libx264');
      expect((await readFile(file)).subarray(4, 8).toString()).toBe('ftyp');

      const result = await buildMovingEmojiDataset({
        outDir: path.join(dir, 'wrapped'),
        clips: 3,
        concepts: 3,
        size: 32,
        emojiSize: 12,
        frames: 4,
      });
      expect(result.encoded).toBe(3);
      // One more call per clip, each writing that clip's temp file.
      const all = (await readFile(log, 'utf8')).trim().split('\n');
      expect(all).toHaveLength(4);
      for (const name of ['000000', '000001', '000002']) expect(all.filter((c) => c.includes(`clips/${name}.mp4.tmp-`))).toHaveLength(1);
    } finally {
      if (before === undefined) delete process.env.TESSERA_FFMPEG;
      else process.env.TESSERA_FFMPEG = before;
    }
  });
});
