import { TesseraError } from '@tessera/core';

/**
 * Stable codes for inputs this package refuses. Every such TesseraError carries
 * `details.path` (the file, or the name given to a Buffer) so a job can report which item it
 * skipped and why, and count skips by these codes.
 */
export const INPUT_ERROR_CODES = {
  /** The path does not exist or is not a readable file. */
  notFound: 'E_FILE_NOT_FOUND',
  /** The file or buffer has zero bytes. */
  empty: 'E_FILE_EMPTY',
  /** The bytes are not any image format we know (random bytes, text named .png...). */
  unrecognized: 'E_IMAGE_UNRECOGNIZED',
  /** A known format that this build cannot decode (PDF, PSD, BMP, JPEG 2000, HEVC HEIC...). */
  unsupported: 'E_IMAGE_UNSUPPORTED',
  /** Recognised but broken: truncated or corrupt data. */
  corrupt: 'E_IMAGE_CORRUPT',
  /** More pixels than `maxPixels` (decompression bomb): refused from the header, before decoding. */
  tooLarge: 'E_IMAGE_TOO_LARGE',
  /** An SVG that references external files or URLs, which we never read or fetch. */
  externalReference: 'E_IMAGE_EXTERNAL_REFERENCE',
  /** A media file without a video stream (audio only, or not media at all). */
  noVideoStream: 'E_VIDEO_NO_STREAM',
  /** A video container or stream ffmpeg cannot read. */
  corruptVideo: 'E_VIDEO_CORRUPT',
  /** Neither a system ffmpeg nor @ffmpeg-installer/ffmpeg is available. */
  ffmpegMissing: 'E_FFMPEG_UNAVAILABLE',
} as const;

/** One of the `INPUT_ERROR_CODES` values ('E_FILE_NOT_FOUND', 'E_IMAGE_CORRUPT', ...): the code of a refused input's TesseraError. */
export type InputErrorCode = (typeof INPUT_ERROR_CODES)[keyof typeof INPUT_ERROR_CODES];

/** A TesseraError about one input, with its path in the message and in `details.path`. */
export function inputError(code: InputErrorCode, source: string, message: string, cause?: unknown): TesseraError {
  return new TesseraError(code, `${source}: ${message}`, { details: { path: source }, cause });
}
