import path from 'node:path';
import { initBackend, TesseraError } from '@tessera/core';
import { type LoadedCaptioner, loadCaptioner } from '@tessera/models';
import {
  createServerApp,
  DEFAULT_LIMITS,
  numberOption,
  RetrievalService,
  resolveServeAuth,
  type ServerPart,
  searchPart,
  startServer,
} from '@tessera/retrieval';

import { createCaptionRoute, DEFAULT_CAPTION_LIMITS } from '@tessera/video-captioning';
import { Command, Option } from 'commander';

const integer = (name: string, min: number, max: number) => numberOption(name, (n) => Number.isInteger(n) && n >= min && n <= max);

interface ServeOptions {
  store?: string;
  checkpoint?: string;
  captioner?: string;
  port: number;
  host: string;
  token?: string;
  insecureNoAuth?: boolean;
  maxK: number;
  maxBody: number;
  maxVideo: number;
  scan: 'float32' | 'int8';
}

/**
 * `tessera serve`: one HTTP server for both apps. With --store: POST /search, GET /images/:id and
 * the search page at /; with --captioner: POST /caption; GET /health says what is loaded. Off
 * loopback every route but GET /health and the page needs the bearer token.
 */
export function createServeCommand(): Command {
  return new Command('serve')
    .description(
      'HTTP API: search (POST /search, GET /images/:id, page at /) with --store, video captioning (POST /caption) with --captioner',
    )
    .option('--store <path>', 'vector store built by `tessera index`: enables search')
    .option('--checkpoint <dir>', 'CLIP model directory for search (default: the one `tessera index` used for this store)')
    .addOption(
      new Option(
        '--scan <precision>',
        "how an exact store scans: 'float32', or 'int8' (about 2x faster per query on a large store, same hits after a float32 re-rank, 1.25x the memory)",
      )
        .choices(['float32', 'int8'])
        .default('float32'),
    )
    .option('--captioner <dir>', 'captioner model directory (e.g. runs/captioner-tiny/model): enables POST /caption')
    .option('--port <n>', 'port (0 picks a free one)', integer('--port', 0, 65535), 8080)
    .option('--host <host>', 'interface to listen on (any but loopback needs --token or --insecure-no-auth)', '127.0.0.1')
    .addOption(
      new Option(
        '--token <secret>',
        'require `Authorization: Bearer <secret>` on every route but GET /health and the page at / (which asks for it, or open /#token=<secret>); the env var keeps it out of `ps`',
      ).env('TESSERA_TOKEN'),
    )
    .option('--insecure-no-auth', 'serve a non-loopback --host without a token: anyone who reaches the port can search and caption')
    .option('--max-k <n>', 'largest k a search may ask for', integer('--max-k', 1, 10_000), DEFAULT_LIMITS.maxK)
    .option(
      '--max-body <bytes>',
      'largest search request body (image uploads included)',
      integer('--max-body', 1024, 1 << 30),
      DEFAULT_LIMITS.maxBodyBytes,
    )
    .option(
      '--max-video <bytes>',
      'largest video upload to POST /caption',
      integer('--max-video', 1024, 1 << 31),
      DEFAULT_CAPTION_LIMITS.maxVideoBytes,
    )
    .action(async (o: ServeOptions) => {
      if (o.store === undefined && o.captioner === undefined)
        throw new TesseraError('E_CONFIG', 'nothing to serve: give --store <path> (search), --captioner <dir> (captioning), or both');
      // Refuse an open network listener before loading any model.
      const token = resolveServeAuth({ host: o.host, token: o.token, insecureNoAuth: o.insecureNoAuth }) ?? undefined;
      await initBackend();
      const service = o.store === undefined ? null : await RetrievalService.open(o.store, o.checkpoint, { scan: o.scan });
      let captioner: LoadedCaptioner | null = null;
      try {
        captioner = o.captioner === undefined ? null : await loadCaptioner(o.captioner);
      } catch (error) {
        await service?.close();
        throw error;
      }
      if (service && service.roots.length === 0)
        console.error(`warning: ${o.store} has no recorded image folders; rerun \`tessera index\` so thumbnails can be served`);

      const parts: ServerPart[] = [];
      if (captioner) {
        const { model, kind } = captioner;
        parts.push({
          routes: createCaptionRoute(captioner, { ...DEFAULT_CAPTION_LIMITS, maxVideoBytes: o.maxVideo }),
          health: () => ({ captioner: { kind, frames: model.numFrames, imageSize: model.imageSize, vocabulary: model.vocabSize } }),
        });
      }
      if (service) parts.push(searchPart(service, { ...DEFAULT_LIMITS, maxK: o.maxK, maxBodyBytes: o.maxBody }));

      const server = await startServer(createServerApp(parts), { host: o.host, port: o.port, token, insecureNoAuth: o.insecureNoAuth });
      const serving = [
        service && `search over ${await service.withStore((store) => store.count())} images from ${path.resolve(o.store as string)}`,
        captioner && `captioning with ${path.resolve(o.captioner as string)}`,
      ].filter(Boolean);
      console.log(`serving ${serving.join(' and ')} at ${server.url}${token ? ' (bearer token required)' : ''}`);
      const stop = async () => {
        await server.close();
        await service?.close();
        captioner?.model.dispose();
      };
      process.once('SIGINT', () => void stop());
      process.once('SIGTERM', () => void stop());
    });
}
