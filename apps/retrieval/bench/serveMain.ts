// The search server on its own, so the load test can run it in its own process:
// `serveMain.ts <store> [port]` prints `serving ... at <url>` once it accepts connections.
import { initBackend } from '@tessera/core';
import { createApp, RetrievalService, startServer } from '../src/index.js';

const [store, port] = process.argv.slice(2);
if (!store) throw new Error('usage: serveMain.ts <store built by tessera index> [port]');
await initBackend();
const service = await RetrievalService.open(store);
const server = await startServer(createApp(service), { port: Number(port ?? 0) });
console.log(`serving ${await service.store.count()} images from ${store} at ${server.url}`);
