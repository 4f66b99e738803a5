import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { INPUT_ERROR_CODES, inputError } from './errors.js';

/** What one `runFfmpeg` run gave back; a non-zero `code` is for the caller to report. */
export interface FfmpegResult {
  /** Exit code; null when ffmpeg was killed by a signal (e.g. after `timeoutMs`). */
  code: number | null;
  /** Everything ffmpeg wrote to stdout (decoded frames, framemd5 lines...). */
  stdout: Buffer;
  /** ffmpeg's log and error messages, as UTF-8 text. */
  stderr: string;
}

let cached: string | null | undefined;

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The ffmpeg binary to use: `TESSERA_FFMPEG` if set, else `ffmpeg` on PATH (the system one:
 * current codecs), else the static binary shipped by the optional `@ffmpeg-installer/ffmpeg`.
 * Null when there is none. `TESSERA_FFMPEG` is read on every call; the search is done once.
 */
export function findFfmpeg(): string | null {
  const fromEnv = process.env.TESSERA_FFMPEG;
  if (fromEnv) return fromEnv;
  if (cached !== undefined) return cached;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && executable(path.join(dir, 'ffmpeg'))) {
      cached = path.join(dir, 'ffmpeg');
      return cached;
    }
  }
  try {
    const installed = createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string };
    cached = executable(installed.path) ? installed.path : null;
  } catch {
    cached = null;
  }
  return cached;
}

/** Options of `runFfmpeg`: no ffmpeg to run is E_FFMPEG_UNAVAILABLE naming `source`. */
export interface RunFfmpegOptions {
  /** An ffmpeg binary to use instead of the one `findFfmpeg` picks. */
  ffmpegPath?: string;
  /** Kill ffmpeg (SIGKILL) after this many milliseconds (default 120,000). */
  timeoutMs?: number;
  /** The file this run reads or writes, named in errors. */
  source: string;
  /** Bytes written to ffmpeg's stdin, read with `-i pipe:0` (e.g. raw frames to encode); stdin is closed after them. */
  input?: readonly Uint8Array[];
}

/**
 * Runs ffmpeg with `args` (decoding or encoding), feeding `input` to its stdin and collecting
 * stdout bytes and stderr text; kills it after `timeoutMs`.
 */
export function runFfmpeg(args: string[], options: RunFfmpegOptions): Promise<FfmpegResult> {
  const bin = options.ffmpegPath ?? findFfmpeg();
  if (!bin) {
    return Promise.reject(
      inputError(
        INPUT_ERROR_CODES.ffmpegMissing,
        options.source,
        'no ffmpeg found: install it (apt-get install ffmpeg), put it on PATH, set TESSERA_FFMPEG, or install @ffmpeg-installer/ffmpeg',
      ),
    );
  }
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['-nostdin', '-hide_banner', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (cause) => {
      clearTimeout(timer);
      reject(inputError(INPUT_ERROR_CODES.ffmpegMissing, options.source, `cannot run ffmpeg at ${bin}: ${cause.message}`, cause));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin.on('error', () => undefined); // ffmpeg exiting early is reported by its exit code
    for (const chunk of options.input ?? []) child.stdin.write(chunk);
    child.stdin.end();
  });
}
