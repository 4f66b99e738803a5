/**
 * Decoding cost per new token with and without the key/value cache, at several prefix lengths.
 * With the cache a token costs one row through every projection and MLP plus attention over the
 * cached keys; without it the whole prefix is recomputed. Writes bench-results/transformer-kv-cache-decode.json.
 */
import { backendInfo, initBackend, recordBenchmark, SeededRandom, tf } from '@tessera/core';
import { Decoder, type DecoderCache, disposeCache } from '../src/index.js';

const C = { vocab: 2000, dim: 256, heads: 4, mlpDim: 1024, layers: 4, encoderTokens: 65, maxPositions: 400 };
const PREFIXES = [16, 96, 384];
const TOKENS = 8;

await initBackend({ backend: 'wasm' });
const nativeActive = (backendInfo() as unknown as { native?: { active: boolean } }).native?.active === true;
const rng = new SeededRandom(0);
const decoder = new Decoder({
  vocabSize: C.vocab,
  maxPositions: C.maxPositions,
  dim: C.dim,
  numHeads: C.heads,
  numLayers: C.layers,
  mlpDim: C.mlpDim,
  rng,
}).eval();
const encoderStates = tf.randomNormal([1, C.encoderTokens, C.dim]);
/** This process's CPU time in ms: the cost of a step whatever else loads the shared machine (wasm runs one thread). */
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
const ids = (n: number) =>
  tf.tensor2d(
    rng.array(n, (r) => r.int(C.vocab)),
    [1, n],
    'int32',
  );

function cachedMsPerToken(prefix: number): number {
  const first = ids(prefix);
  let out = decoder.forward(first, { encoderStates, useCache: true });
  let cache: DecoderCache | undefined = out.cache;
  tf.dispose([first, out.logits, out.hidden]);
  let total = 0;
  for (let t = 0; t < TOKENS + 1; t++) {
    const next = ids(1);
    const start = cpuMs();
    out = decoder.forward(next, { encoderStates, cache, useCache: true });
    out.logits.dataSync();
    if (t > 0) total += cpuMs() - start; // the first step warms up this shape
    disposeCache(cache, out.cache);
    cache = out.cache;
    tf.dispose([next, out.logits, out.hidden]);
  }
  disposeCache(cache);
  return total / TOKENS;
}

function uncachedMsPerToken(prefix: number): number {
  let total = 0;
  const reps = 3;
  for (let t = 0; t < reps + 1; t++) {
    const all = ids(prefix + 1);
    const start = cpuMs();
    const out = decoder.forward(all, { encoderStates });
    out.logits.dataSync();
    if (t > 0) total += cpuMs() - start;
    tf.dispose([all, out.logits, out.hidden]);
  }
  return total / reps;
}

cachedMsPerToken(PREFIXES[0] as number); // warm-up: first use of every kernel and weight packing
const cached = PREFIXES.map(cachedMsPerToken);
const uncached = PREFIXES.map(uncachedMsPerToken);
const longest = PREFIXES.length - 1;
await recordBenchmark({
  benchmark: 'transformer-kv-cache-decode',
  kind: 'ablation',
  metric: `CPU ms per generated token after a ${PREFIXES[longest]}-token prefix (decoder D${C.dim} H${C.heads} FF${C.mlpDim} L${C.layers} V${C.vocab}, cross-attention to ${C.encoderTokens} tokens, batch 1)`,
  unit: 'ms',
  ours: cached[longest] as number,
  peer: uncached[longest] as number,
  peerName: 'same decoder without KV cache (recomputes the prefix)',
  higherIsBetter: false,
  backend: nativeActive ? 'wasm + Tessera kernels + @tessera/native' : 'wasm + Tessera kernels',
  details: {
    ...C,
    prefixes: PREFIXES,
    cachedMsPerToken: cached,
    uncachedMsPerToken: uncached,
    cachedLongestOverShortest: (cached[longest] as number) / (cached[0] as number),
    uncachedLongestOverShortest: (uncached[longest] as number) / (uncached[0] as number),
    timedTokens: TOKENS,
    backendInfo: backendInfo(),
  },
});
process.stderr.write(
  `cached ms/token ${cached.map((v) => v.toFixed(2)).join(', ')}; uncached ${uncached.map((v) => v.toFixed(1)).join(', ')} at prefixes ${PREFIXES.join(', ')}\n`,
);
encoderStates.dispose();
decoder.dispose();
