// Decoding speed of a trained captioner, greedy, one clip at a time (as `tessera caption`):
// with the decoder's key/value cache (ours) against re-running the whole prefix each step.
// Usage: npm run bench -- [model dir] [manifest]   (defaults: runs/captioner-tiny/model, data/moving-emoji/test.jsonl)
import path from 'node:path';
import { initBackend, recordBenchmark, tf, workspaceRoot } from '@tessera/core';
import { clipTensor, greedyDecodeUncached, loadCaptioner, loadCaptionSet } from '../src/index.js';

const root = workspaceRoot();
const modelDir = process.argv[2] ?? path.join(root, 'runs/captioner-tiny/model');
const manifest = process.argv[3] ?? path.join(root, 'data/moving-emoji/test.jsonl');
const info = await initBackend({ backend: 'wasm' });
const captioner = await loadCaptioner(modelDir);
const { model, vocab, config } = captioner;
model.eval();
const { clips } = await loadCaptionSet(manifest, { numFrames: config.numFrames, imageSize: config.imageSize, limit: 24 });
const videos = clips.map((c) => clipTensor([c.frames], config.numFrames, config.imageSize));

/** Generated tokens per second (EOS counted) over every clip and both languages. */
function rate(decode: (video: tf.Tensor, start: number) => number[]): number {
  const started = performance.now();
  let tokens = 0;
  for (const video of videos) for (const lang of ['en', 'zh'] as const) tokens += decode(video, vocab.langId(lang)).length + 1;
  return tokens / ((performance.now() - started) / 1000);
}
const cached = (v: tf.Tensor, s: number) => model.generate(v, s, vocab.eosId)[0] as number[];
const uncached = (v: tf.Tensor, s: number) => greedyDecodeUncached(model, v, s, vocab.eosId)[0] as number[];
rate(cached); // warm-up: kernels compiled, buffers allocated
let best = { ours: 0, peer: 0 };
for (let round = 0; round < 3; round++) {
  best = { ours: Math.max(best.ours, rate(cached)), peer: Math.max(best.peer, rate(uncached)) };
}
const result = await recordBenchmark({
  benchmark: 'captioner-decode',
  metric: 'greedy decoding speed, batch 1',
  unit: 'tokens/s',
  ours: best.ours,
  peer: best.peer,
  peerName: 'same decoder without key/value cache',
  higherIsBetter: true,
  backend: info.name,
  details: {
    clips: videos.length,
    languages: 2,
    rounds: 3,
    maxLength: config.maxLength,
    textDim: config.textDim,
    textLayers: config.textLayers,
    modelDir,
  },
});
console.log(`with KV cache ${best.ours.toFixed(1)} tokens/s, without ${best.peer.toFixed(1)} tokens/s (x${result.ratio.toFixed(2)})`);
tf.dispose(videos);
model.dispose();
