import { stat } from 'node:fs/promises';
import { INPUT_ERROR_CODES, inputError } from './errors.js';
import { runFfmpeg } from './ffmpeg.js';

/** What `probeVideo` reads of a video's first video stream: ffmpeg's stream description and every frame's timestamp. */
export interface VideoInfo {
  /** The file probed. */
  path: string;
  /** Codec of the video stream ('h264', 'vp9', ...). */
  codec: string;
  /** Displayed frame size (rotation metadata applied, as ffmpeg decodes it). */
  width: number;
  height: number;
  /** Seconds, from the container (or from the last frame when the container does not say). */
  duration: number;
  /** Average frame rate the container reports (or frames / duration). */
  fps: number;
  /** Frames in the stream, counted from its packets (the length of `frameTimes`). */
  numFrames: number;
  /** Presentation time of every frame in seconds from the start of the file, ascending. */
  frameTimes: Float64Array;
  /** True when frame intervals vary by more than 1 % (variable frame rate). */
  variableFrameRate: boolean;
}

/** Options of `probeVideo` (and of `sampleFrames`, which probes first). */
export interface ProbeOptions {
  /** An ffmpeg binary to use instead of the one `findFfmpeg` picks. */
  ffmpegPath?: string;
  /** Kill each ffmpeg run after this many milliseconds (default 120,000). */
  timeoutMs?: number;
}

/** Refuses missing, non-regular and empty files before ffmpeg sees them. */
export async function checkFile(path: string): Promise<void> {
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new Error('not a regular file');
    size = info.size;
  } catch (cause) {
    throw inputError(INPUT_ERROR_CODES.notFound, path, 'no such file (check the path and that it is a regular file)', cause);
  }
  if (size === 0) throw inputError(INPUT_ERROR_CODES.empty, path, 'the file is empty (0 bytes); re-download or remove it');
}

/** Turns ffmpeg's complaint about an input into our error codes. */
export function ffmpegInputError(path: string, stderr: string, what: string): Error {
  const last =
    stderr
      .trim()
      .split('\n')
      .filter((l) => l.trim())
      .pop() ?? 'no output';
  if (/matches no streams|does not contain any stream|Output file #0 does not contain/i.test(stderr)) {
    return inputError(INPUT_ERROR_CODES.noVideoStream, path, `no video stream (${what}); is it an audio or data file?`);
  }
  return inputError(
    INPUT_ERROR_CODES.corruptVideo,
    path,
    `ffmpeg cannot read this video (${what}): ${last.trim()}; re-encode or remove it`,
  );
}

/**
 * Probes a video with ffmpeg alone (no ffprobe needed, so the `@ffmpeg-installer` fallback works):
 * stream description from `ffmpeg -i`, and every frame's timestamp by demuxing the packets
 * (`-c copy -f framemd5`), which reads the file but decodes nothing.
 */
export async function probeVideo(path: string, options: ProbeOptions = {}): Promise<VideoInfo> {
  await checkFile(path);
  const { code, stdout, stderr } = await runFfmpeg(['-i', path, '-map', '0:V:0', '-c', 'copy', '-f', 'framemd5', '-'], {
    ...options,
    source: path,
  });
  if (code !== 0) throw ffmpegInputError(path, stderr, 'probe');
  const streamLine = stderr.split('\n').find((l) => /Stream #\d+:\d+.*: Video: /.test(l) && !/attached pic/.test(l));
  if (!streamLine) throw inputError(INPUT_ERROR_CODES.noVideoStream, path, 'no video stream; is it an audio or image file?');
  const codec = /Video: ([\w-]+)/.exec(streamLine)?.[1] ?? 'unknown';
  const size = /,\s(\d+)x(\d+)(?=[\s,[]|$)/.exec(streamLine);
  let width = Number(size?.[1] ?? 0);
  let height = Number(size?.[2] ?? 0);
  // ffmpeg rotates on decode; newer builds print "displaymatrix: rotation of -90.00 degrees", older "rotate : 90".
  const rotation = Number(/rotation of (-?[\d.]+) degrees/.exec(stderr)?.[1] ?? /rotate\s*:\s*(-?\d+)/.exec(stderr)?.[1] ?? 0);
  if (Math.abs(Math.round(rotation / 90)) % 2 === 1) [width, height] = [height, width];

  const text = stdout.toString('utf8');
  const tb = /#tb \d+: (\d+)\/(\d+)/.exec(text);
  const timeBase = tb ? Number(tb[1]) / Number(tb[2]) : 0;
  const times: number[] = [];
  let lastDuration = 0;
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const fields = line.split(',').map((f) => f.trim());
    const dts = Number(fields[1]);
    const pts = Number(fields[2]);
    const size = Number(fields[4]);
    if (size === 0) continue; // AVI "dropped frame" placeholders carry no picture
    times.push((Number.isFinite(pts) && pts > -(2 ** 62) ? pts : dts) * timeBase);
    lastDuration = Number(fields[3]) * timeBase;
  }
  if (times.length === 0 || !width || !height) {
    throw inputError(INPUT_ERROR_CODES.corruptVideo, path, 'ffmpeg found a video stream but no frames in it; re-encode or remove it');
  }
  const frameTimes = Float64Array.from(times).sort();
  const d = /Duration: (\d+):(\d+):([\d.]+)/.exec(stderr);
  const duration = d ? Number(d[1]) * 3600 + Number(d[2]) * 60 + Number(d[3]) : (frameTimes.at(-1) as number) + lastDuration;
  const fpsText = /([\d.]+)(k?) fps/.exec(streamLine);
  const fps = fpsText ? Number(fpsText[1]) * (fpsText[2] ? 1000 : 1) : frameTimes.length / duration;
  let variableFrameRate = false;
  if (frameTimes.length > 2) {
    const gaps = Array.from({ length: frameTimes.length - 1 }, (_, i) => (frameTimes[i + 1] as number) - (frameTimes[i] as number));
    variableFrameRate = Math.max(...gaps) - Math.min(...gaps) > 0.01 * (gaps.reduce((a, b) => a + b, 0) / gaps.length);
  }
  return { path, codec, width, height, duration, fps, numFrames: frameTimes.length, frameTimes, variableFrameRate };
}
