import { TesseraError, type tf } from '@tessera/core';
import type { DecodedImage } from './decodeImage.js';
import { INPUT_ERROR_CODES, inputError } from './errors.js';
import { runFfmpeg } from './ffmpeg.js';
import { ImageProcessor } from './imageProcessor.js';
import { ffmpegInputError, type ProbeOptions, probeVideo, type VideoInfo } from './probeVideo.js';

/**
 * Options of `sampleFrameImages` and `sampleFrames`: which frames (`numFrames` evenly spread,
 * or one every 1/`fps` s, between `start` and `end`) and how to decode them. An fps <= 0,
 * or no fps and no positive integer numFrames, is E_CONFIG.
 */
export interface SampleFramesOptions extends ProbeOptions {
  /** Frames spread uniformly: index round(start + i * (end - start) / (N - 1)). */
  numFrames?: number;
  /** Or frames at this rate: the frame shown at start, start + 1/fps, ... */
  fps?: number;
  /** Time range in seconds (default: the whole video). */
  start?: number;
  end?: number;
  /** Cap on frames sampled at `fps` (default 256). */
  maxFrames?: number;
  /**
   * 'seek' decodes each sampled frame after a seek (from its preceding keyframe); 'scan'
   * decodes the file once and keeps the sampled frames; 'auto' (default) seeks when the
   * sample is sparse (fewer than a quarter of the frames).
   */
  strategy?: 'auto' | 'seek' | 'scan';
  /** Parallel ffmpeg processes for 'seek' (default 2). */
  concurrency?: number;
}

/** What `sampleFrameImages` returns: the probe result and the sampled frames as 8-bit RGB images. */
export interface SampledFrameImages {
  /** The video as `probeVideo` describes it. */
  info: VideoInfo;
  /** Frame indices in presentation order (repeats when more frames are asked than exist). */
  indices: number[];
  /** Their presentation times, seconds. */
  timestamps: number[];
  /** One decoded frame per entry of `indices`, at the video's size. */
  frames: DecodedImage[];
}

/** What `sampleFrames` returns: as `SampledFrameImages`, with the frames preprocessed into one tensor (dispose it when done). */
export interface SampledFrames extends Omit<SampledFrameImages, 'frames'> {
  /** `[T, 3, H, W]` float32 (or `[T, H, W, 3]` with `dataFormat: 'channels_last'`). */
  pixels: tf.Tensor4D;
}

/** First frame index with time >= t (frames sorted by time). */
function firstAtOrAfter(times: Float64Array, t: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((times[mid] as number) < t - 1e-9) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Last frame index with time <= t: the frame on screen at time t. */
function shownAt(times: Float64Array, t: number): number {
  return Math.max(0, firstAtOrAfter(times, t + 2e-9) - 1);
}

/**
 * Which frames to sample. Uniform: `round(s + i * (e - s) / (N - 1))` over the frames inside
 * [start, end] (N = 1 gives the middle one; round half up). At `fps`: the frame shown at each
 * tick start + k / fps up to end.
 */
export function frameIndices(
  frameTimes: Float64Array,
  options: Pick<SampleFramesOptions, 'numFrames' | 'fps' | 'start' | 'end' | 'maxFrames'>,
): number[] {
  const n = frameTimes.length;
  const startTime = options.start ?? (frameTimes[0] as number);
  const endTime = options.end ?? (frameTimes[n - 1] as number);
  const s = Math.min(firstAtOrAfter(frameTimes, startTime), n - 1);
  const e = Math.max(shownAt(frameTimes, endTime), s);
  if (options.fps !== undefined) {
    if (!(options.fps > 0)) throw new TesseraError('E_CONFIG', `sampleFrames: fps must be > 0, got ${options.fps}`);
    const out: number[] = [];
    const max = options.maxFrames ?? 256;
    const t0 = frameTimes[s] as number;
    for (let k = 0; out.length < max; k++) {
      const t = t0 + k / options.fps;
      if (t > endTime + 1e-9) break;
      out.push(shownAt(frameTimes, t));
    }
    return out;
  }
  const count = options.numFrames;
  if (count === undefined || !Number.isInteger(count) || count < 1) {
    throw new TesseraError('E_CONFIG', `sampleFrames: give numFrames (a positive integer) or fps; got numFrames=${count}`);
  }
  if (count === 1) return [Math.round((s + e) / 2)];
  return Array.from({ length: count }, (_, i) => Math.round(s + (i * (e - s)) / (count - 1)));
}

/** Splits concatenated binary PPM (P6) images. */
export function parsePpmStream(buffer: Buffer, source: string): DecodedImage[] {
  const frames: DecodedImage[] = [];
  let pos = 0;
  while (pos < buffer.length) {
    const header = /^P6\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(buffer.subarray(pos, pos + 64).toString('latin1'));
    if (header?.[3] !== '255') throw inputError(INPUT_ERROR_CODES.corruptVideo, source, 'ffmpeg returned an unreadable frame');
    const width = Number(header[1]);
    const height = Number(header[2]);
    const start = pos + header[0].length;
    const end = start + width * height * 3;
    if (end > buffer.length) throw inputError(INPUT_ERROR_CODES.corruptVideo, source, 'ffmpeg returned a truncated frame');
    frames.push({ data: new Uint8Array(buffer.subarray(start, end)), width, height, channels: 3, format: 'ppm', source });
    pos = end;
  }
  return frames;
}

async function seekFrames(info: VideoInfo, wanted: number[], options: SampleFramesOptions): Promise<Map<number, DecodedImage>> {
  const out = new Map<number, DecodedImage>();
  const queue = [...wanted];
  const times = info.frameTimes;
  const worker = async () => {
    for (let index = queue.shift(); index !== undefined; index = queue.shift()) {
      // Seek half-way between the previous frame and this one: accurate seeking then drops
      // everything before it, and the first frame out is this one despite rounding.
      const seek = index === 0 ? [] : ['-ss', (((times[index - 1] as number) + (times[index] as number)) / 2).toFixed(6)];
      const args = [...seek, '-i', info.path, '-map', '0:V:0', '-frames:v', '1', '-f', 'image2pipe', '-c:v', 'ppm', '-'];
      const { code, stdout, stderr } = await runFfmpeg(['-loglevel', 'error', ...args], { ...options, source: info.path });
      if (code !== 0) throw ffmpegInputError(info.path, stderr, `decoding frame ${index}`);
      const [frame] = parsePpmStream(stdout, info.path);
      if (!frame) throw inputError(INPUT_ERROR_CODES.corruptVideo, info.path, `frame ${index} could not be decoded; re-encode the video`);
      out.set(index, frame);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 2) }, worker));
  return out;
}

async function scanFrames(info: VideoInfo, wanted: number[], options: SampleFramesOptions): Promise<Map<number, DecodedImage>> {
  const select = `select=${wanted.map((i) => `eq(n\\,${i})`).join('+')}`;
  const args = [
    '-loglevel',
    'error',
    '-i',
    info.path,
    '-map',
    '0:V:0',
    '-vf',
    select,
    '-vsync',
    '0',
    '-f',
    'image2pipe',
    '-c:v',
    'ppm',
    '-',
  ];
  const { code, stdout, stderr } = await runFfmpeg(args, { ...options, source: info.path });
  if (code !== 0) throw ffmpegInputError(info.path, stderr, 'decoding');
  const frames = parsePpmStream(stdout, info.path);
  if (frames.length !== wanted.length) {
    throw inputError(
      INPUT_ERROR_CODES.corruptVideo,
      info.path,
      `decoded ${frames.length} of ${wanted.length} sampled frames; the stream is damaged, re-encode the video`,
    );
  }
  return new Map(wanted.map((index, k) => [index, frames[k] as DecodedImage]));
}

/** Samples frames of a video as RGB images (see `SampleFramesOptions`). */
export async function sampleFrameImages(path: string, options: SampleFramesOptions = {}): Promise<SampledFrameImages> {
  const info = await probeVideo(path, options);
  const indices = frameIndices(info.frameTimes, options);
  const wanted = [...new Set(indices)].sort((a, b) => a - b);
  const strategy = options.strategy ?? 'auto';
  const useSeek = strategy === 'seek' || (strategy === 'auto' && wanted.length * 4 < info.numFrames);
  const byIndex = useSeek ? await seekFrames(info, wanted, options) : await scanFrames(info, wanted, options);
  return {
    info,
    indices,
    timestamps: indices.map((i) => info.frameTimes[i] as number),
    frames: indices.map((i) => byIndex.get(i) as DecodedImage),
  };
}

/**
 * Samples frames of a video and preprocesses them like images: `[T, 3, H, W]` float32 through
 * `processor` (default: CLIP's 224 px preprocessing). Bad videos throw TesseraErrors with
 * `E_FILE_NOT_FOUND`, `E_FILE_EMPTY`, `E_VIDEO_NO_STREAM`, `E_VIDEO_CORRUPT` or `E_FFMPEG_UNAVAILABLE`.
 */
export async function sampleFrames(
  path: string,
  options: SampleFramesOptions & { processor?: ImageProcessor; dataFormat?: 'channels_first' | 'channels_last' } = {},
): Promise<SampledFrames> {
  const { frames, ...rest } = await sampleFrameImages(path, options);
  const processor = options.processor ?? new ImageProcessor();
  const pixels = await processor.process(frames, { dataFormat: options.dataFormat });
  return { ...rest, pixels };
}
