import { afterEach, describe, expect, it } from 'vitest';
import { INPUT_ERROR_CODES } from './errors.js';
import { findFfmpeg, runFfmpeg } from './ffmpeg.js';

const saved = process.env.TESSERA_FFMPEG;
afterEach(() => {
  if (saved === undefined) delete process.env.TESSERA_FFMPEG;
  else process.env.TESSERA_FFMPEG = saved;
});

describe('ffmpeg launcher', () => {
  it('takes TESSERA_FFMPEG first, also after an earlier lookup', () => {
    delete process.env.TESSERA_FFMPEG;
    const found = findFfmpeg();
    expect(found).toBeTruthy();
    process.env.TESSERA_FFMPEG = '/opt/elsewhere/ffmpeg';
    expect(findFfmpeg()).toBe('/opt/elsewhere/ffmpeg');
    delete process.env.TESSERA_FFMPEG;
    expect(findFfmpeg()).toBe(found);
  });

  it('feeds input to stdin: 2x2 grey bytes in, the same bytes out', async () => {
    const pixels = Uint8Array.from([0, 85, 170, 255]);
    const args = [
      '-v',
      'error',
      '-f',
      'rawvideo',
      '-pix_fmt',
      'gray',
      '-s',
      '2x2',
      '-i',
      'pipe:0',
      '-f',
      'rawvideo',
      '-pix_fmt',
      'gray',
      'pipe:1',
    ];
    const { code, stdout } = await runFfmpeg(args, { source: 'frames', input: [pixels] });
    expect(code).toBe(0);
    expect([...stdout]).toEqual([0, 85, 170, 255]);
  });

  it('names the file and how to install ffmpeg when the binary cannot run', async () => {
    await expect(runFfmpeg(['-version'], { source: 'out.mp4', ffmpegPath: '/nonexistent/ffmpeg' })).rejects.toMatchObject({
      code: INPUT_ERROR_CODES.ffmpegMissing,
      details: { path: 'out.mp4' },
    });
  });
});
