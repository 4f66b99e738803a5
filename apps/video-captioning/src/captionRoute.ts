import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isTesseraError } from '@tessera/core';
import { CAPTION_LANGS, type LoadedCaptioner } from '@tessera/models';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import { captionVideo } from './captionVideo.js';
import { inputErrorStatus } from './inputErrorStatus.js';

/** Limits on one caption request. */
export interface CaptionLimits {
  /** Largest upload in bytes (the whole multipart body). */
  maxVideoBytes: number;
  /** Largest beam size a request may ask for. */
  maxBeams: number;
}

export const DEFAULT_CAPTION_LIMITS: CaptionLimits = { maxVideoBytes: 50 * 1024 * 1024, maxBeams: 8 };

/** What `POST /caption` answers. */
export interface CaptionResponse {
  /** The uploaded file's name. */
  video: string;
  caption: string;
  lang: (typeof CAPTION_LANGS)[number];
  tokens: number[];
  beams: number;
  ms: number;
}

/**
 * `POST /caption`: multipart/form-data with a video file in the field "video" (any format
 * ffmpeg decodes) and optional "lang" (en|zh) and "beam" fields; answers JSON. The upload
 * goes to a private temporary file that is removed afterwards. Bad videos are 4xx with the
 * error code (400 empty, 415 not a video stream, 422 corrupt or truncated), an
 * oversized body 413. Mount it with `app.route('/', createCaptionRoute(captioner))`.
 */
export function createCaptionRoute(captioner: LoadedCaptioner, limits: CaptionLimits = DEFAULT_CAPTION_LIMITS): Hono {
  const formSchema = z.object({
    video: z
      .instanceof(File, { message: 'attach a video file as the form field "video"' })
      .refine((f) => f.size > 0, 'the uploaded video is empty'),
    lang: z.enum(CAPTION_LANGS).default('en'),
    beam: z.coerce.number().int().min(1).max(limits.maxBeams).default(1),
  });
  const bad = (message: string) => Response.json({ error: 'bad_request', message }, { status: 400 });
  const app = new Hono();
  app.post(
    '/caption',
    bodyLimit({
      maxSize: limits.maxVideoBytes,
      onError: (c) => c.json({ error: 'too_large', message: `upload over ${limits.maxVideoBytes} bytes` }, 413),
    }),
    async (c) => {
      const started = performance.now();
      if (!(c.req.header('content-type') ?? '').startsWith('multipart/form-data'))
        return bad('send multipart/form-data with the video file in the field "video" (and optional "lang": en|zh, "beam": 1-8)');
      let form: FormData;
      try {
        form = await c.req.formData();
      } catch {
        return bad('the multipart body could not be parsed');
      }
      const parsed = formSchema.safeParse({
        video: form.get('video'),
        lang: form.get('lang') ?? undefined,
        beam: form.get('beam') ?? undefined,
      });
      if (!parsed.success) return bad(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
      const { video, lang, beam } = parsed.data;
      const dir = await mkdtemp(path.join(os.tmpdir(), 'tessera-caption-'));
      try {
        // ffmpeg reads files; the extension is only a hint (the container is probed).
        const file = path.join(
          dir,
          `upload${path
            .extname(video.name)
            .replace(/[^.\w]/g, '')
            .slice(0, 10)}`,
        );
        await writeFile(file, new Uint8Array(await video.arrayBuffer()));
        const result = await captionVideo(captioner, file, { lang, beams: beam });
        const body: CaptionResponse = {
          video: video.name,
          caption: result.caption,
          lang,
          tokens: result.tokens,
          beams: beam,
          ms: performance.now() - started,
        };
        return c.json(body);
      } catch (error) {
        const status = inputErrorStatus(error);
        if (status === null || !isTesseraError(error)) throw error;
        return c.json({ error: error.code, message: error.message.replaceAll(dir, '(upload)') }, status as 400);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
  return app;
}
