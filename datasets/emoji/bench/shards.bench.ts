/**
 * Streaming WebDataset shards: samples/s of @tessera/data's reader (tar entries -> samples with parsed
 * JSON captions) against Python's tarfile in stream mode (`r|`, what webdataset's
 * tar iterator uses) doing the same grouping and json.loads, on the same shards built from
 * the emoji training split. Best of 3 passes each, files in the page cache.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { recordBenchmark } from '@tessera/core';
import { readShard, SkipCounter, writeShards } from '@tessera/data';
import { buildEmojiDataset } from '../src/index.js';

const dir = await mkdtemp(path.join(tmpdir(), 'tessera-shard-bench-'));
try {
  const emoji = await buildEmojiDataset({ outDir: path.join(dir, 'emoji'), zeroShotFraction: 0 });
  const t0 = performance.now();
  const { shards, samples } = await writeShards({ manifest: emoji.splits.train.manifest, outDir: path.join(dir, 'shards'), perShard: 500 });
  const writeSeconds = (performance.now() - t0) / 1000;

  let best = Number.POSITIVE_INFINITY;
  for (let rep = 0; rep < 3; rep++) {
    const t = performance.now();
    let n = 0;
    const skips = new SkipCounter();
    for (const s of shards) for await (const _ of readShard(s, skips)) n++;
    if (n !== samples || skips.total !== 0) throw new Error(`read ${n} of ${samples} samples, ${skips}`);
    best = Math.min(best, (performance.now() - t) / 1000);
  }

  const python = `
import json, sys, tarfile, time
best = float('inf')
for rep in range(3):
    t = time.perf_counter(); n = 0
    for f in sys.argv[1:]:
        key, files = None, {}
        with tarfile.open(f, 'r|') as tar:
            for m in tar:
                if not m.isfile(): continue
                data = tar.extractfile(m).read()
                k, ext = m.name.split('.', 1)
                if k != key:
                    if key is not None: json.loads(files['json']); n += 1
                    key, files = k, {}
                files[ext] = data
        if key is not None: json.loads(files['json']); n += 1
    best = min(best, time.perf_counter() - t)
print(n, best)
`;
  const [pyN, pySeconds] = execFileSync('/usr/bin/python3', ['-c', python, ...shards], { encoding: 'utf8' })
    .trim()
    .split(' ')
    .map(Number) as [number, number];
  if (pyN !== samples) throw new Error(`python read ${pyN} of ${samples}`);
  await recordBenchmark({
    benchmark: 'data-shard-read',
    metric: 'WebDataset shard streaming (emoji train split)',
    unit: 'samples/s',
    ours: samples / best,
    peer: samples / pySeconds,
    peerName: 'Python 3.11 tarfile r| (webdataset-style)',
    higherIsBetter: true,
    backend: 'node',
    details: { samples, shards: shards.length, perShard: 500, writeSeconds, node: process.version },
  });
} finally {
  await rm(dir, { recursive: true, force: true });
}
