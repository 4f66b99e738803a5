import { isTesseraError } from '@tessera/core';

/** HTTP status of each input error a video upload can cause (a server answers these as 4xx). */
const STATUS: Record<string, number> = {
  E_FILE_NOT_FOUND: 400,
  E_FILE_EMPTY: 400,
  E_VIDEO_NO_STREAM: 415,
  E_IMAGE_UNRECOGNIZED: 415,
  E_VIDEO_CORRUPT: 422,
  E_INPUT: 400,
};

/** 4xx for errors caused by the input video, null for anything else (a server error). */
export function inputErrorStatus(error: unknown): number | null {
  return isTesseraError(error) ? (STATUS[error.code] ?? null) : null;
}
