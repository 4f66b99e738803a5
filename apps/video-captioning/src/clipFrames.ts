import { tf } from '@tessera/core';
import { captionerProcessor } from '@tessera/models';
import { type ImageProcessor, sampleFrameImages } from '@tessera/patches';

/** The frame preprocessing of a Tessera captioner (`captionerProcessor` of @tessera/models). */
export function frameProcessor(size: number): ImageProcessor {
  return captionerProcessor(size);
}

/**
 * `numFrames` frames sampled evenly over a whole video (long videos included), preprocessed to
 * float32 [T * 3 * size * size]. Unreadable inputs throw the TesseraErrors of @tessera/patches
 * (E_FILE_NOT_FOUND, E_FILE_EMPTY, E_VIDEO_NO_STREAM, E_VIDEO_CORRUPT, E_FFMPEG_UNAVAILABLE).
 */
export async function loadClipFrames(path: string, numFrames: number, processor: ImageProcessor): Promise<Float32Array> {
  const [h, w] = processor.outputSize;
  const { frames } = await sampleFrameImages(path, { numFrames });
  const out = new Float32Array(numFrames * 3 * h * w);
  frames.forEach((frame, k) => {
    processor.toFloat(processor.transform(frame), 'channels_first', out.subarray(k * 3 * h * w, (k + 1) * 3 * h * w));
  });
  return out;
}

/** Stacks clips loaded by `loadClipFrames` into [B, T, 3, H, W]. */
export function clipTensor(clips: readonly Float32Array[], numFrames: number, size: number): tf.Tensor {
  const per = numFrames * 3 * size * size;
  const data = new Float32Array(clips.length * per);
  clips.forEach((c, i) => {
    data.set(c, i * per);
  });
  return tf.tensor(data, [clips.length, numFrames, 3, size, size]);
}
