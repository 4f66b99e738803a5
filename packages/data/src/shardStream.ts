import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** A shard that could not be fetched or whose download broke off; `status` is the HTTP status when there was one. */
export class ShardStreamError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ShardStreamError';
  }
}

const isHttp = (location: string) => /^https?:\/\//i.test(location);

/** A local path for a path or `file://` URL, null for an HTTP(S) URL. */
export function localPath(location: string): string | null {
  if (isHttp(location)) return null;
  return location.startsWith('file://') ? fileURLToPath(location) : location;
}

/** Wraps an HTTP body so that a dropped connection surfaces as a ShardStreamError. */
async function* body(response: Response, url: string): AsyncGenerator<Uint8Array> {
  const stream = response.body;
  if (!stream) return;
  const reader = stream.getReader();
  try {
    for (;;) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (error) {
        throw new ShardStreamError(`${url}: download broke off (${(error as Error).message})`, undefined, { cause: error });
      }
      if (chunk.done) return;
      yield chunk.value;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/**
 * The bytes of a shard as a stream of chunks, from a local path, a `file://` URL or an
 * `http(s)://` URL (Node's fetch, read as it arrives). A missing local file fails with
 * ENOENT on the first read; an HTTP error status or a broken download with ShardStreamError.
 */
export async function* openShard(location: string, chunkSize = 1 << 20): AsyncGenerator<Uint8Array> {
  const file = localPath(location);
  if (file !== null) {
    const stream = createReadStream(file, { highWaterMark: chunkSize });
    try {
      yield* stream;
    } finally {
      stream.destroy();
    }
    return;
  }
  let response: Response;
  try {
    response = await fetch(location);
  } catch (error) {
    throw new ShardStreamError(`${location}: fetch failed (${(error as Error).message})`, undefined, { cause: error });
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw new ShardStreamError(`${location}: HTTP ${response.status} ${response.statusText}`, response.status);
  }
  yield* body(response, location);
}

/** A small file next to a shard (e.g. img2dataset's `_stats.json`) as text, or null when it is not there. */
export async function readSidecar(location: string): Promise<string | null> {
  const file = localPath(location);
  if (file !== null) return readFile(file, 'utf8').catch(() => null);
  try {
    const response = await fetch(location);
    return response.ok ? await response.text() : null;
  } catch {
    return null;
  }
}
