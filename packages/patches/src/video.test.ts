import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { initBackend, tf } from '@tessera/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INPUT_ERROR_CODES } from './errors.js';
import { findFfmpeg } from './ffmpeg.js';
import { ImageProcessor } from './imageProcessor.js';
import { probeVideo } from './probeVideo.js';
import { frameIndices, sampleFrameImages, sampleFrames } from './sampleFrames.js';

// Test videos are encoded here by ffmpeg from frames whose red level names them: frame i is
// solid (20 i + 10, 255 - 20 i, 128), so a decoded frame tells which frame it is.
const FRAMES = 12;
let dir: string;
let ffmpeg: string;
const videos: Record<string, string> = {};

function encode(name: string, width: number, height: number, args: string[]): string {
  const frame = (i: number) => Buffer.alloc(width * height * 3).fill(Buffer.from([20 * i + 10, 255 - 20 * i, 128]));
  const raw = Buffer.concat(Array.from({ length: FRAMES }, (_, i) => frame(i)));
  const out = path.join(dir, name);
  const input = ['-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-r', '10', '-i', '-'];
  execFileSync(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', ...input, ...args, out], { input: raw });
  return out;
}

/** Which frame a decoded picture is, from its mean red level. */
function frameId(frame: { data: Uint8Array }): number {
  let red = 0;
  for (let i = 0; i < frame.data.length; i += 3) red += frame.data[i] as number;
  return Math.round((red / (frame.data.length / 3) - 10) / 20) || 0;
}

describe('video probing and frame sampling', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
    dir = await mkdtemp(path.join(tmpdir(), 'patches-video-'));
    ffmpeg = findFfmpeg() as string;
    expect(ffmpeg).toBeTruthy();
    // Odd sizes: H.264 needs 4:4:4 for odd widths; VP9 takes 4:2:0.
    videos.h264 = encode('odd.mp4', 33, 17, ['-c:v', 'libx264', '-pix_fmt', 'yuv444p', '-g', '4']);
    videos.vp9 = encode('odd.webm', 35, 19, ['-c:v', 'libvpx-vp9', '-pix_fmt', 'yuv420p', '-g', '4']);
    // Variable frame rate: frames at 0, .1, .2, .5, .6, 1.5, 1.6, 1.7, ... s.
    videos.vfr = encode('vfr.mp4', 32, 16, [
      '-vf',
      'setpts=(if(lt(N\\,3)\\,N*0.1\\,if(lt(N\\,5)\\,0.5+(N-3)*0.1\\,1.5+(N-5)*0.1)))/TB',
      '-vsync',
      'vfr',
      '-c:v',
      'libx264',
      '-pix_fmt',
      'yuv420p',
    ]);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('chooses frames by the uniform formula and by fps (hand-computed)', () => {
    const at10fps = Float64Array.from({ length: 12 }, (_, i) => i / 10);
    // round(0 + i * 11 / 3) = 0, 3.67, 7.33, 11
    expect(frameIndices(at10fps, { numFrames: 4 })).toEqual([0, 4, 7, 11]);
    expect(frameIndices(at10fps, { numFrames: 1 })).toEqual([6]);
    // Within [0.25, 0.75] s: frames 3..7; round(3 + i * 4 / 2)
    expect(frameIndices(at10fps, { numFrames: 3, start: 0.25, end: 0.75 })).toEqual([3, 5, 7]);
    expect(frameIndices(at10fps, { numFrames: 15 }).length).toBe(15);
    expect(frameIndices(at10fps, { fps: 4 })).toEqual([0, 2, 5, 7, 10]);
    expect(() => frameIndices(at10fps, {})).toThrow(expect.objectContaining({ code: 'E_CONFIG' }));
  });

  it('probes H.264 (odd size) without decoding', async () => {
    const info = await probeVideo(videos.h264 as string);
    expect(info).toMatchObject({ codec: 'h264', width: 33, height: 17, numFrames: 12, fps: 10, variableFrameRate: false });
    expect(info.duration).toBeCloseTo(1.2, 2);
    expect(Array.from(info.frameTimes, (t) => Math.round(t * 1000))).toEqual(Array.from({ length: 12 }, (_, i) => i * 100));
  });

  for (const kind of ['h264', 'vp9'] as const) {
    it(`samples the right frames from ${kind} by seeking and by scanning`, async () => {
      for (const strategy of ['seek', 'scan'] as const) {
        const got = await sampleFrameImages(videos[kind] as string, { numFrames: 4, strategy });
        expect(got.indices).toEqual([0, 4, 7, 11]);
        expect(got.frames.map(frameId)).toEqual([0, 4, 7, 11]);
        expect(got.timestamps.map((t) => Math.round(t * 10))).toEqual([0, 4, 7, 11]);
        expect([got.frames[0]?.width, got.frames[0]?.height]).toEqual(kind === 'h264' ? [33, 17] : [35, 19]);
      }
    });
  }

  it('handles variable frame rate: real timestamps, frames shown at each fps tick', async () => {
    const info = await probeVideo(videos.vfr as string);
    expect(info.variableFrameRate).toBe(true);
    expect(Array.from(info.frameTimes.subarray(0, 8), (t) => Math.round(t * 100))).toEqual([0, 10, 20, 50, 60, 150, 160, 170]);
    // Ticks at 0, 0.5, 1.0, 1.5 s show frames 0, 3, 4 (still on screen at 1.0), 5.
    const got = await sampleFrameImages(videos.vfr as string, { fps: 2, end: 1.7, strategy: 'seek' });
    expect(got.indices).toEqual([0, 3, 4, 5]);
    expect(got.frames.map(frameId)).toEqual([0, 3, 4, 5]);
  });

  it('preprocesses frames like images: [T, 3, H, W], and a real Cinepak clip seeks exactly', async () => {
    const clip = path.join(import.meta.dirname, '../test/fixtures/tree_2s.avi');
    const info = await probeVideo(clip);
    // 30 packets at 15 fps, but 26 are empty AVI "repeat the previous picture" chunks: 4 pictures,
    // at packets 0, 11, 17 and 24 (seen with `ffmpeg -i tree_2s.avi -c copy -f framemd5 -`).
    expect(info).toMatchObject({ codec: 'cinepak', width: 320, height: 240, numFrames: 4, fps: 15, variableFrameRate: true });
    expect(Array.from(info.frameTimes, (t) => Math.round(t * 15))).toEqual([0, 11, 17, 24]);
    const seek = await sampleFrameImages(clip, { numFrames: 3, strategy: 'seek' });
    const scan = await sampleFrameImages(clip, { numFrames: 3, strategy: 'scan' });
    expect(seek.indices).toEqual([0, 2, 3]);
    for (let k = 0; k < 3; k++)
      expect(Buffer.compare(Buffer.from(seek.frames[k]?.data as Uint8Array), Buffer.from(scan.frames[k]?.data as Uint8Array))).toBe(0);
    const processor = ImageProcessor.fromConfig({ size: 32, crop_size: 32 });
    const before = tf.memory().numTensors;
    const { pixels } = await sampleFrames(clip, { numFrames: 3, processor });
    expect(pixels.shape).toEqual([3, 3, 32, 32]);
    const expected = await processor.process(scan.frames);
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(pixels, expected))).dataSync()[0])).toBe(0);
    tf.dispose([pixels, expected]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('works with the @ffmpeg-installer binary too (the fallback when ffmpeg is not on PATH)', async () => {
    const installed = (createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string }).path;
    const info = await probeVideo(videos.h264 as string, { ffmpegPath: installed });
    expect(info).toMatchObject({ width: 33, height: 17, numFrames: 12 });
    const got = await sampleFrameImages(videos.vp9 as string, { numFrames: 3, ffmpegPath: installed });
    expect(got.frames.map(frameId)).toEqual([0, 6, 11]);
  });

  it('refuses bad videos with stable codes and the path', async () => {
    const audio = path.join(dir, 'tone.wav');
    execFileSync(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'sine=duration=0.2', audio]);
    const mp4 = await readFile(videos.h264 as string);
    const truncated = path.join(dir, 'truncated.mp4');
    await writeFile(truncated, mp4.subarray(0, Math.floor(mp4.length / 3)));
    const garbage = path.join(dir, 'garbage.mp4');
    await writeFile(
      garbage,
      Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919 + 3) % 251),
    );
    const empty = path.join(dir, 'empty.webm');
    await writeFile(empty, '');
    const cases: [string, string][] = [
      [audio, INPUT_ERROR_CODES.noVideoStream],
      [truncated, INPUT_ERROR_CODES.corruptVideo],
      [garbage, INPUT_ERROR_CODES.corruptVideo],
      [empty, INPUT_ERROR_CODES.empty],
      [path.join(dir, 'missing.mp4'), INPUT_ERROR_CODES.notFound],
    ];
    for (const [p, code] of cases) {
      const error = await sampleFrames(p, { numFrames: 2 }).then(
        () => null,
        (e: unknown) => e,
      );
      expect([path.basename(p), error]).toEqual([path.basename(p), expect.objectContaining({ code, details: { path: p } })]);
    }
  });
});
