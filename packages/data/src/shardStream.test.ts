import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataRecord } from './record.js';
import { countShardSamples } from './shardCount.js';
import { readShard, resolveShards } from './shards.js';
import { SkipCounter } from './skipCounter.js';

const fixtures = path.join(import.meta.dirname, '..', 'test', 'fixtures', 'img2dataset');
// Python tarfile's member offsets in 00000.tar: sample 2's png data spans bytes 7680..7757.
const CUT = 7700;
let server: Server;
let base: string;

/**
 * Serves the fixture folder over loopback HTTP: `/drop/<name>` sends the first CUT bytes of
 * a file under its full Content-Length and then closes the connection; `/status/<n>` answers n.
 */
beforeAll(async () => {
  server = createServer(async (req, res) => {
    const url = req.url ?? '/';
    const status = /^\/status\/(\d+)/.exec(url);
    if (status) {
      res.writeHead(Number(status[1])).end('no');
      return;
    }
    const drop = url.startsWith('/drop/');
    const name = path.basename(url);
    let bytes: Buffer;
    try {
      bytes = await readFile(path.join(fixtures, name));
    } catch {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-length': bytes.length, 'content-type': 'application/x-tar' });
    if (!drop) {
      res.end(bytes);
      return;
    }
    res.write(bytes.subarray(0, CUT), () => res.socket?.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

async function readAll(shards: string[], skips: SkipCounter): Promise<DataRecord[]> {
  const out: DataRecord[] = [];
  for (const s of shards) for await (const r of readShard(s, skips)) out.push(r);
  return out;
}

const view = (records: DataRecord[]) => records.map((r) => [r.key, r.captions[0]?.text, (r.image as { bytes: Uint8Array }).bytes.length]);

describe('shards from paths, file:// and http:// URLs', () => {
  it('reads the same samples from a path, a file:// URL and a loopback HTTP server', async () => {
    const local = await readAll(await resolveShards(path.join(fixtures, '{00000..00002}.tar')), new SkipCounter());
    const file = await readAll(await resolveShards(`${pathToFileURL(fixtures).href}/{00000..00002}.tar`), new SkipCounter());
    const skips = new SkipCounter();
    const http = await readAll(await resolveShards(`${base}/{00000..00002}.tar`), skips);
    // Keys, captions and image sizes as make_fixture.py wrote them (sizes from Python's tarfile).
    expect(view(local)).toEqual([
      ['000000000', 'a red square', 634],
      ['000000001', 'a green square', 634],
      ['000000002', 'a blue square', 77],
      ['000010000', 'a yellow square', 75],
      ['000010001', 'a cyan square', 634],
      ['000020000', 'a magenta square', expect.any(Number)],
      ['000020001', 'a grey square', expect.any(Number)],
    ]);
    expect(view(file)).toEqual(view(local));
    expect(view(http)).toEqual(view(local));
    expect(skips.total).toBe(0);
  });

  it('counts samples from the stats files over HTTP and reads the shard that has none', async () => {
    const count = await countShardSamples(await resolveShards(`${base}/{00000..00002}.tar`));
    expect(count).toEqual({ samples: 7, fromStats: 2, counted: 1 });
  });

  it('skips and counts a dropped connection, an HTTP error and a 404, keeping the samples before the drop', async () => {
    const skips = new SkipCounter();
    const records = await readAll([`${base}/drop/00000.tar`, `${base}/status/500`, `${base}/nope/00009.tar`, `${base}/00001.tar`], skips);
    expect(records.map((r) => r.key)).toEqual(['000000000', '000000001', '000010000', '000010001']);
    expect(skips.counts()).toEqual({ missing_shard: 1, unreadable_shard: 2 });
    // The break is reported after the last sample read whole.
    expect(skips.examples().map((e) => e.where)).toEqual([
      `${base}/drop/00000.tar#000000001`,
      `${base}/status/500`,
      `${base}/nope/00009.tar`,
    ]);
  });
});
