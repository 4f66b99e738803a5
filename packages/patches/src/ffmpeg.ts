import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { INPUT_ERROR_CODES, inputError } from './errors.js';

export interface FfmpegResult {
  code: number | null;
  stdout: Buffer;
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
 * Null when there is none.
 */
export function findFfmpeg(): string | null {
  if (cached !== undefined) return cached;
  const fromEnv = process.env.TESSERA_FFMPEG;
  if (fromEnv) {
    cached = fromEnv;
    return cached;
  }
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

/** Runs ffmpeg with `args`, collecting stdout bytes and stderr text; kills it after `timeoutMs`. */
export function runFfmpeg(args: string[], options: { ffmpegPath?: string; timeoutMs?: number; source: string }): Promise<FfmpegResult> {
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
    const child = spawn(bin, ['-nostdin', '-hide_banner', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
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
  });
}
