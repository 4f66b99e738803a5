// Decoding speed of a trained captioner, greedy, one clip at a time (as `tessera caption`):
// with the decoder's key/value cache (ours) against re-running the whole prefix each step, and
// against the same model and weights in PyTorch with a key/value cache (bench/torch_captioner.py)
// and in onnxruntime (that model exported as an encoder and a cached decoder step,
// bench/ort_captioner.py), each of which must generate the very same tokens.
// Usage: npm run bench -- [model dir] [manifest]   (defaults: runs/captioner-tiny/model, data/moving-emoji/test.jsonl)
// Without arguments, a fresh clone gets both made first (the moving-emoji clips, then
// captioner-tiny.yaml for TESSERA_BENCH_TRAIN_STEPS steps, default 400: decoding speed needs a
// model that writes captions, not a good one), so `npm run bench` runs here end to end.
// TESSERA_BENCH_CLIPS (default 24) and TESSERA_BENCH_ROUNDS (default 3) shorten a run.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend, recordBenchmark, referencePython, spread, TesseraError, tf, torchPeerSettings, workspaceRoot } from '@tessera/core';
import { loadTesseraCaptioner } from '@tessera/models';
import { clipTensor, greedyDecodeUncached, loadCaptionSet } from '../src/index.js';

const root = workspaceRoot();
const modelDir = process.argv[2] ?? path.join(root, 'runs/captioner-tiny/model');
const manifest = process.argv[3] ?? path.join(root, 'data/moving-emoji/test.jsonl');
if (process.argv[2] === undefined) prepareDefaultModel();

/** Builds the default clips and trains the default captioner with the `tessera` CLI, where they are missing. */
function prepareDefaultModel(): void {
  const tessera = (args: string[]) => {
    console.log(`[bench] tessera ${args.join(' ')}`);
    const run = spawnSync(process.execPath, [path.join(root, 'apps/cli/bin/tessera.js'), ...args], { cwd: root, stdio: 'inherit' });
    if (run.status !== 0)
      throw new TesseraError('E_BENCH', `tessera ${args[0]} failed (exit ${run.status}) while preparing the benchmark's captioner`);
  };
  if (!existsSync(path.join(root, 'data/moving-emoji/manifest.jsonl')))
    tessera(['data', 'moving-emoji', '--out', 'data/moving-emoji', '--clips', '300']);
  if (!existsSync(path.join(modelDir, 'config.json')))
    tessera([
      'train',
      '--config',
      'datasets/moving-emoji/captioner-tiny.yaml',
      '--train.steps',
      process.env.TESSERA_BENCH_TRAIN_STEPS ?? '400',
    ]);
}
const limit = Number(process.env.TESSERA_BENCH_CLIPS ?? 24);
const rounds = Number(process.env.TESSERA_BENCH_ROUNDS ?? 3);
const info = await initBackend({ backend: 'wasm' });
const captioner = await loadTesseraCaptioner(modelDir);
const { model, vocab, config } = captioner;
model.eval();
const { clips } = await loadCaptionSet(manifest, { numFrames: config.numFrames, imageSize: config.imageSize, limit });
const videos = clips.map((c) => clipTensor([c.frames], config.numFrames, config.imageSize));
const languages = ['en', 'zh'] as const;

/** Generated tokens per second (EOS counted) over every clip and both languages. */
function rate(decode: (video: tf.Tensor, start: number) => number[]): number {
  const started = performance.now();
  let tokens = 0;
  for (const video of videos) for (const lang of languages) tokens += decode(video, vocab.langId(lang)).length + 1;
  return tokens / ((performance.now() - started) / 1000);
}
const cached = (v: tf.Tensor, s: number) => model.generate(v, { startId: s })[0] as number[];
const uncached = (v: tf.Tensor, s: number) => greedyDecodeUncached(model, v, s)[0] as number[];
rate(cached); // warm-up: kernels compiled, buffers allocated
const oursRates: number[] = [];
const uncachedRates: number[] = [];
for (let round = 0; round < rounds; round++) {
  oursRates.push(rate(cached));
  uncachedRates.push(rate(uncached));
}
const best = { ours: spread(oursRates).median, peer: spread(uncachedRates).median };
const result = await recordBenchmark({
  benchmark: 'captioner-decode',
  kind: 'ablation',
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
    rounds,
    tokensPerSecond: { cached: spread(oursRates), uncached: spread(uncachedRates) },
    maxLength: config.maxLength,
    textDim: config.textDim,
    textLayers: config.textLayers,
    modelDir,
  },
});
console.log(`with KV cache ${best.ours.toFixed(1)} tokens/s, without ${best.peer.toFixed(1)} tokens/s (x${result.ratio.toFixed(2)})`);

/**
 * The Python peers (torch_captioner.py, ort_captioner.py) read one job: the same frames (raw
 * float32), the same weights, and Tessera's tokens for every clip and language, which each
 * must reproduce; each reports every round.
 */
const jobDir = mkdtempSync(path.join(os.tmpdir(), 'tessera-decode-bench-'));
const [peerSetting] = torchPeerSettings(1);
const job = path.join(jobDir, 'job.json');
try {
  const frames = path.join(jobDir, 'frames.f32');
  const per = config.numFrames * 3 * config.imageSize * config.imageSize;
  const all = new Float32Array(clips.length * per);
  for (const [i, c] of clips.entries()) all.set(c.frames, i * per);
  writeFileSync(frames, new Uint8Array(all.buffer));
  writeFileSync(
    job,
    JSON.stringify({
      modelDir,
      frames,
      clips: clips.length,
      startIds: languages.map((lang) => vocab.langId(lang)),
      eosId: vocab.eosId,
      threads: peerSetting.torchThreads,
      rounds,
      expected: videos.flatMap((v) => languages.map((lang) => cached(v, vocab.langId(lang)))),
      onnxDir: path.join(jobDir, 'onnx'),
    }),
  );
  const torch = pythonPeer<{ torch: string }>('torch_captioner.py', 'PyTorch');
  await recordAgainst('pytorch', `PyTorch ${torch.torch} (same weights, KV cache), 1 thread`, torch, {
    architecture: `joint video encoder: ${config.numFrames} frames x ${(config.imageSize / config.patchSize) ** 2} patches (${config.patchSize}px) of ${config.imageSize}px, dim ${config.visionDim}, ${config.visionLayers} pre-LN layers, ${config.visionHeads} heads; decoder dim ${config.textDim}, ${config.textLayers} pre-LN layers with cross-attention, ${config.textHeads} heads, tied output embedding, vocab ${config.vocabSize}`,
    torch: torch.torch,
    torchThreads: 1,
  });
  const ort = pythonPeer<{ onnxruntime: string; opset: number }>('ort_captioner.py', 'onnxruntime');
  await recordAgainst(
    'onnxruntime',
    `onnxruntime ${ort.onnxruntime} (same weights exported as an encoder and a cached decoder step, opset ${ort.opset}), 1 thread`,
    ort,
    {
      export:
        'torch.onnx.export (TorchScript exporter, dynamic past length) of torch_captioner.py: encoder -> cross keys/values per layer; step(token, position, past keys/values, cross keys/values) -> logits, present keys/values',
      session: 'CPUExecutionProvider, intra_op_num_threads 1, inter_op_num_threads 1, sequential, ORT_ENABLE_ALL; greedy loop in Python',
    },
  );
} finally {
  rmSync(jobDir, { recursive: true, force: true });
}

type PeerRun<T> = T & { tokensPerSecond: number[]; tokens: number };

function pythonPeer<T>(scriptName: string, what: string): PeerRun<T> {
  const script = fileURLToPath(new URL(`./${scriptName}`, import.meta.url));
  const run = spawnSync(referencePython(), [script, job], { encoding: 'utf8', env: peerSetting.env });
  if (run.status !== 0) throw new TesseraError('E_BENCH_PEER', `${what} peer failed (exit ${run.status}): ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').pop() as string);
}

/** Records Tessera's cached decoding against one peer's rounds, with what the peer ran. */
async function recordAgainst(key: string, peerName: string, run: PeerRun<object>, about: Record<string, unknown>): Promise<void> {
  const what = peerName.split(' ')[0];
  const versus = await recordBenchmark({
    benchmark: `captioner-decode-vs-${key}`,
    metric: 'greedy decoding speed, batch 1, median round',
    unit: 'tokens/s',
    ours: best.ours,
    peer: spread(run.tokensPerSecond).median,
    peerName,
    higherIsBetter: true,
    backend: info.name,
    details: {
      clips: videos.length,
      languages: 2,
      rounds,
      tokensPerRound: run.tokens,
      tokensPerSecond: { ours: spread(oursRates), peer: spread(run.tokensPerSecond) },
      tokensMatch: `${what} generated the same token ids for every clip and language`,
      ...about,
      decoding: `greedy, minNewTokens 1, maxNewTokens ${config.maxLength - 1}, encoder run per decoding, EOS counted`,
      modelDir,
    },
  });
  console.log(`Tessera ${best.ours.toFixed(1)} tokens/s, ${what} ${versus.peer.toFixed(1)} tokens/s (x${versus.ratio.toFixed(2)})`);
}
tf.dispose(videos);
model.dispose();
