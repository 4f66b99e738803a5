// Load test of `tessera serve`: the server runs in a child process; this process sends
// CONCURRENCY simultaneous POST /search requests over loopback and reports errors and p50/p99.
// Usage: tsx --conditions=development bench/loadTest.ts <store> [concurrency=200]
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const [store, concurrencyArg] = process.argv.slice(2);
if (!store) throw new Error('usage: loadTest.ts <store built by tessera index> [concurrency]');
const concurrency = Number(concurrencyArg ?? 200);
const here = path.dirname(fileURLToPath(import.meta.url));
const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=development', path.join(here, 'serveMain.ts'), store, '0'], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const url = await new Promise<string>((resolve, reject) => {
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    const match = /at (http:\/\/\S+)/.exec(out);
    if (match?.[1]) resolve(match[1]);
  });
  child.once('exit', (code) => reject(new Error(`serve exited with ${code}`)));
});

const queries = ['a red heart', 'grinning face', 'cat face', '红心', '笑脸', 'flag', 'a blue circle', 'thumbs up'];
const search = async (i: number) => {
  const t0 = performance.now();
  const response = await fetch(`${url}/search`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text: queries[i % queries.length], k: 10 }),
  });
  const body = (await response.json()) as { results?: unknown[] };
  return { ms: performance.now() - t0, ok: response.status === 200 && body.results?.length === 10 };
};
await Promise.all(Array.from({ length: 8 }, (_, i) => search(i))); // warm-up
const t0 = performance.now();
const results = await Promise.all(Array.from({ length: concurrency }, (_, i) => search(i)));
const wall = performance.now() - t0;
const ms = results.map((r) => r.ms).sort((a, b) => a - b);
const pct = (p: number) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))]?.toFixed(1);
console.log(
  JSON.stringify({
    concurrency,
    errors: results.filter((r) => !r.ok).length,
    p50_ms: Number(pct(0.5)),
    p99_ms: Number(pct(0.99)),
    wall_ms: Number(wall.toFixed(1)),
    throughput_qps: Number(((concurrency / wall) * 1000).toFixed(1)),
  }),
);
child.kill('SIGTERM');
