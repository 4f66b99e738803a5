import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { isTesseraError } from '@tessera/core';
import type { SearchHit } from '@tessera/index';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import { MAX_QUERY_CHARS } from './embedder.js';
import { insideRoots } from './imageSource.js';
import { SEARCH_PAGE } from './page.js';
import type { RetrievalService } from './retrievalService.js';
import { bearerAuth, resolveServeAuth } from './serverAuth.js';
import { thumbnailPng } from './thumbnail.js';

/** Limits on what one request may ask for. */
export interface ServerLimits {
  /** Largest request body in bytes (uploads included). */
  maxBodyBytes: number;
  /** Largest k. */
  maxK: number;
  /** Longest text query in characters. */
  maxQueryChars: number;
  /** Thumbnail edge in pixels. */
  thumbnailSize: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  maxBodyBytes: 5 * 1024 * 1024,
  maxK: 100,
  maxQueryChars: MAX_QUERY_CHARS,
  thumbnailSize: 160,
};

/** Input codes that mean the client sent something wrong (a 400), not that the server failed. */
const CLIENT_ERROR = /^E_(QUERY|FILE_EMPTY|IMAGE_)/;

/** One result as the API returns it: no filesystem paths, a thumbnail URL instead. */
export interface ApiHit {
  id: string;
  score: number;
  caption?: string;
  thumbnail: string;
}

function toApi(hits: readonly SearchHit[]): ApiHit[] {
  return hits.map((h) => ({
    id: h.id,
    score: h.score,
    ...(h.caption === undefined ? {} : { caption: h.caption }),
    thumbnail: `/images/${encodeURIComponent(h.id)}`,
  }));
}

function reasons(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
}

/** One thing a server serves: its routes, and the fields it adds to `GET /health`. */
export interface ServerPart {
  routes: Hono;
  health(): Record<string, unknown> | Promise<Record<string, unknown>>;
}

/**
 * The one HTTP app of `tessera serve`: every part's routes, `GET /health` (`{status: 'ok'}` plus
 * each part's fields) and a JSON 404 for any other path.
 */
export function createServerApp(parts: readonly ServerPart[]): Hono {
  const app = new Hono();
  app.get('/health', async (c) => c.json(Object.assign({ status: 'ok' }, ...(await Promise.all(parts.map((p) => p.health()))))));
  for (const part of parts) app.route('/', part.routes);
  app.notFound((c) => c.json({ error: 'not_found', message: `${c.req.method} ${c.req.path} does not exist` }, 404));
  return app;
}

/** The search part: `POST /search`, `GET /images/:id` and the page at `GET /`; health gives model, store kind and count. */
export function searchPart(service: RetrievalService, limits: ServerLimits = DEFAULT_LIMITS): ServerPart {
  return {
    routes: searchRoutes(service, limits),
    health: () =>
      service.withStore(async (store) => ({
        model: service.embedder.modelId,
        store: store.info.kind,
        count: await store.count(),
        ...(service.reloadError ? { reloadError: { code: service.reloadError.code, message: service.reloadError.message } } : {}),
      })),
  };
}

/** The search server on its own: the search part with `GET /health` and the 404. */
export function createApp(service: RetrievalService, limits: ServerLimits = DEFAULT_LIMITS): Hono {
  return createServerApp([searchPart(service, limits)]);
}

function searchRoutes(service: RetrievalService, limits: ServerLimits): Hono {
  const kSchema = z.number().int().min(1).max(limits.maxK);
  const textSchema = z
    .object({ text: z.string().trim().min(1, 'type a query').max(limits.maxQueryChars), k: kSchema.default(10) })
    .strict();
  const formSchema = z.object({
    image: z
      .instanceof(File, { message: 'attach an image file as the form field "image"' })
      .refine((f) => f.size > 0, 'the uploaded image is empty'),
    k: z.coerce.number().pipe(kSchema).default(10),
  });

  const app = new Hono();
  const bad = (message: string) => Response.json({ error: 'bad_request', message }, { status: 400 });

  app.get('/', (c) => c.html(SEARCH_PAGE));

  app.post(
    '/search',
    bodyLimit({
      maxSize: limits.maxBodyBytes,
      onError: (c) => c.json({ error: 'too_large', message: `request body over ${limits.maxBodyBytes} bytes` }, 413),
    }),
    async (c) => {
      const type = c.req.header('content-type') ?? '';
      const started = performance.now();
      if (type.startsWith('application/json')) {
        let body: unknown;
        try {
          body = await c.req.json();
        } catch {
          return bad('the body is not valid JSON: send {"text": "...", "k": 10}');
        }
        const parsed = textSchema.safeParse(body);
        if (!parsed.success) return bad(reasons(parsed.error));
        const hits = await service.searchText(parsed.data.text, parsed.data.k);
        return c.json({ query: { text: parsed.data.text, k: parsed.data.k }, results: toApi(hits), ms: performance.now() - started });
      }
      if (type.startsWith('multipart/form-data')) {
        let form: FormData;
        try {
          form = await c.req.formData();
        } catch {
          return bad('the multipart body could not be parsed');
        }
        const parsed = formSchema.safeParse({ image: form.get('image'), k: form.get('k') ?? undefined });
        if (!parsed.success) return bad(reasons(parsed.error));
        const bytes = new Uint8Array(await parsed.data.image.arrayBuffer());
        const hits = await service.searchImage(bytes, parsed.data.k, parsed.data.image.name || 'upload');
        return c.json({
          query: { image: parsed.data.image.name, k: parsed.data.k },
          results: toApi(hits),
          ms: performance.now() - started,
        });
      }
      return bad('send application/json {"text", "k"} or multipart/form-data with an "image" file');
    },
  );

  app.get('/images/:id{.+}', async (c) => {
    const id = c.req.param('id');
    const found = await service.withStore(async (store, roots) => {
      const record = id.length > 4096 ? undefined : await store.get(id);
      // The path comes from the store, but the file may since have become a link out of the roots.
      return record && { record, inside: await insideRoots(record.path, roots) };
    });
    if (!found) return c.json({ error: 'not_found', message: `no indexed image with id ${JSON.stringify(id)}` }, 404);
    const { record, inside } = found;
    if (!inside) return c.json({ error: 'forbidden', message: 'that image lies outside the indexed folders' }, 403);
    const png = await thumbnailPng(record.path, limits.thumbnailSize);
    return c.body(new Uint8Array(png), 200, { 'content-type': 'image/png', 'cache-control': 'max-age=300' });
  });

  app.onError((error, c) => {
    if (isTesseraError(error) && CLIENT_ERROR.test(error.code)) return c.json({ error: error.code, message: error.message }, 400);
    return c.json({ error: isTesseraError(error) ? error.code : 'internal', message: error.message }, 500);
  });
  return app;
}

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /** Port; 0 picks a free one (default 8080). */
  port?: number;
  /** Bearer token every request but GET /health and GET / must carry. */
  token?: string;
  /** Listen on a non-loopback host without a token, on purpose. */
  insecureNoAuth?: boolean;
}

/**
 * Listens on host:port and resolves once it accepts connections. A non-loopback host needs a
 * token (or insecureNoAuth), checked here before listening (E_SERVE_AUTH; see resolveServeAuth).
 */
export async function startServer(app: Hono, options: StartOptions = {}): Promise<RunningServer> {
  const hostname = options.host ?? '127.0.0.1';
  const token = resolveServeAuth({ host: hostname, token: options.token, insecureNoAuth: options.insecureNoAuth });
  let handler = app;
  if (token !== null) {
    // The gate runs before any of the app's routes and hands the untouched request on.
    handler = new Hono();
    handler.use(bearerAuth(token));
    handler.all('*', (c) => app.fetch(c.req.raw, c.env));
  }
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: handler.fetch, hostname, port: options.port ?? 8080 }, (info: AddressInfo) => {
      resolve({
        url: `http://${hostname.includes(':') ? `[${hostname}]` : hostname}:${info.port}`,
        port: info.port,
        close: () => new Promise<void>((done, fail) => server.close((e) => (e ? fail(e) : done()))),
      });
    });
    server.once('error', reject);
  });
}
