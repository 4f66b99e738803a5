/**
 * Indexing throughput: images embedded per second by `clip-tiny`'s vision tower, visual
 * projection and L2 normalisation, forward only, batches of 256 preprocessed images
 * [256, 3, 32, 32] (the model calls `embedImages` makes for `tessera index`), against the same
 * model and weights in PyTorch 2.13 from .venv-ref (bench/torch_embed.py), which must produce the same
 * embeddings within 1e-4; and against onnxruntime 1.30 (bench/ort_clip.py) running that same
 * PyTorch module exported with torch.onnx.export into this run's temp dir (CPUExecutionProvider,
 * intra-op threads = ours, inter-op 1, sequential), checked against ours within 1e-4 the same way.
 * All at 1 thread and at 2 (BLAS threads for Tessera's native kernels; for PyTorch the faster of
 * intra-op or BLAS threads, the other pool pinned to 1; onnxruntime's intra-op threads). One
 * warm-up batch, then `rounds` rounds each side; images/s at the median round, min-max in details.
 * Usage: npm run bench [-- model dir]   (default: a fresh clip-tiny, seed 0, saved with saveModel)
 * TESSERA_BENCH_STEPS (batches per round, default 5) and TESSERA_BENCH_ROUNDS (default 3) shorten a run.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend, recordBenchmark, referencePython, SeededRandom, spread, TesseraError, tf, torchPeerSettings } from '@tessera/core';
import { createModel, DualEncoder, loadModel, MODEL_FILES, saveModel } from '../src/index.js';

const BATCH = 256; // embedImages' chunk
const TOLERANCE = 1e-4;
const steps = Number(process.env.TESSERA_BENCH_STEPS ?? 5);
const rounds = Number(process.env.TESSERA_BENCH_ROUNDS ?? 5);

const info = await initBackend();
const dir = mkdtempSync(path.join(os.tmpdir(), 'tessera-embed-bench-'));
try {
  const modelDir = process.argv[2] ?? path.join(dir, 'model');
  if (!process.argv[2]) await saveModel(modelDir, createModel('clip-tiny'));
  const { model, config } = await loadModel(modelDir);
  if (!(model instanceof DualEncoder))
    throw new TesseraError('E_CONFIG', `embedImages.bench needs a CLIP model directory, got type '${config.type}'`);
  model.eval();
  const size = model.vision_model.config.imageSize as number;
  const rng = new SeededRandom(0);
  const images = tf.tensor4d(
    rng.array(BATCH * 3 * size * size, (r) => r.normal()),
    [BATCH, 3, size, size],
  );

  /** Images/s of each round (median, min-max); each embeds the batch `steps` times and reads the result back. */
  const rate = () => {
    tf.tidy(() => model.encodeImage(images)).dispose(); // warm-up
    const rates: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const start = performance.now();
      for (let i = 0; i < steps; i++) {
        const embeds = model.encodeImage(images);
        embeds.dataSync();
        embeds.dispose();
      }
      rates.push((BATCH * steps) / ((performance.now() - start) / 1000));
    }
    return spread(rates);
  };

  const expected = model.encodeImage(images);
  writeFileSync(path.join(dir, 'images.f32'), new Uint8Array((images.dataSync() as Float32Array).slice().buffer));
  writeFileSync(path.join(dir, 'expected.f32'), new Uint8Array((expected.dataSync() as Float32Array).slice().buffer));
  expected.dispose();
  const ours1 = rate();
  const info2 = await initBackend({ threads: 2 });
  const ours2 = rate();

  const script = fileURLToPath(new URL('./torch_embed.py', import.meta.url));
  /** The fastest PyTorch setting at `threads` threads; each run checks its embeddings against ours first. */
  const peer = (threads: number) => {
    const runs = torchPeerSettings(threads).map(({ torchThreads, env }) => {
      const job = path.join(dir, `job-${threads}-${torchThreads}.json`);
      writeFileSync(
        job,
        JSON.stringify({
          weights: path.join(modelDir, MODEL_FILES.weights),
          model: config,
          images: path.join(dir, 'images.f32'),
          expected: path.join(dir, 'expected.f32'),
          batch: BATCH,
          threads: torchThreads,
          steps,
          rounds,
          tolerance: TOLERANCE,
        }),
      );
      const run = spawnSync(referencePython(), [script, job], { encoding: 'utf8', env });
      if (run.status !== 0) throw new Error(`PyTorch peer failed (exit ${run.status}): ${run.stderr}`);
      const out = JSON.parse(run.stdout.trim().split('\n').pop() as string) as {
        imagesPerSecond: number[];
        maxAbsDiff: number;
        torch: string;
      };
      return { ...out, rate: spread(out.imagesPerSecond), torchThreads, blasThreads: Number(env.OPENBLAS_NUM_THREADS) };
    });
    return runs.reduce((best, r) => (r.rate.median > best.rate.median ? r : best));
  };
  const torch1 = peer(1);
  const torch2 = peer(2);

  /** onnxruntime at `threads` intra-op threads: ort_clip.py checks its embeddings against ours, then times `rounds` rounds. */
  const ortPeer = (threads: number) => {
    const job = path.join(dir, `ort-job-${threads}.json`);
    writeFileSync(
      job,
      JSON.stringify({
        source: 'tessera',
        weights: path.join(modelDir, MODEL_FILES.weights),
        model: config,
        onnxDir: path.join(dir, 'onnx'),
        images: path.join(dir, 'images.f32'),
        imageBatch: BATCH,
        imageSize: size,
        expectedImages: path.join(dir, 'expected.f32'),
        threads,
        steps,
        tolerance: TOLERANCE,
      }),
    );
    const env = torchPeerSettings(threads)[0]?.env; // the export's torch threads; the session sets its own
    const run = spawnSync(referencePython(), [fileURLToPath(new URL('./ort_clip.py', import.meta.url)), job], {
      encoding: 'utf8',
      env,
      input: `${'images\n'.repeat(rounds)}done\n`,
    });
    if (run.status !== 0) throw new Error(`onnxruntime peer failed (exit ${run.status}): ${run.stderr}`);
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const ready = lines[0] as unknown as { maxAbsDiff: number; onnxruntime: string; onnx: string; opset: number };
    const rates = lines.slice(1, 1 + rounds).map((l) => l.perSecond as number);
    return { ...ready, rate: spread(rates) };
  };
  const ort1 = ortPeer(1);
  const ort2 = ortPeer(2);

  const details = {
    model: config.name,
    modelDir: process.argv[2] ?? 'fresh clip-tiny (seed 0) saved with saveModel',
    parameters: model.vision_model.parameterCount() + (model.visual_projection?.parameterCount() ?? 0),
    batch: `${BATCH} images 3x${size}x${size}, vision tower + visual projection + L2 normalisation, forward only`,
    steps,
    rounds,
    maxAbsDiff: Math.max(torch1.maxAbsDiff, torch2.maxAbsDiff),
    maxAbsDiffOnnxruntime: Math.max(ort1.maxAbsDiff, ort2.maxAbsDiff),
    tolerance: TOLERANCE,
    imagesPerSecond: { ours1, ours2, torch1: torch1.rate, torch2: torch2.rate, ort1: ort1.rate, ort2: ort2.rate },
    onnxruntimeSetting:
      'torch_embed.py module exported by torch.onnx.export(dynamo=True, fixed bench shape), InferenceSession(CPUExecutionProvider, intra_op_num_threads = threads, inter_op_num_threads 1, ORT_SEQUENTIAL, ORT_ENABLE_ALL)',
    onnxOpset: ort1.opset,
    versions: { torch: torch1.torch, onnxruntime: ort1.onnxruntime, onnx: ort1.onnx },
    ours2Threads: info2.native.active ? info2.threads : 1,
    torch2Setting: { torchThreads: torch2.torchThreads, blasThreads: torch2.blasThreads },
    torch: torch1.torch,
    native: info.native.active ? info.native.blas : 'off',
  };
  const workload = (threads: number) =>
    `clip-tiny image embedding, batch ${BATCH} x 3x${size}x${size}, ${threads} thread${threads > 1 ? 's' : ''}`;
  const rows = [
    ['', 1, ours1, info, torch1.rate, `PyTorch ${torch1.torch}, 1 thread`, 'PyTorch float32'],
    [
      '-2threads',
      2,
      ours2,
      info2,
      torch2.rate,
      `PyTorch ${torch2.torch}, 2 threads (intra-op ${torch2.torchThreads}, BLAS ${torch2.blasThreads})`,
      'PyTorch float32',
    ],
    [
      '-ort',
      1,
      ours1,
      info,
      ort1.rate,
      `onnxruntime ${ort1.onnxruntime} CPUExecutionProvider (torch.onnx.export), 1 thread`,
      'onnxruntime float32',
    ],
    [
      '-2threads-ort',
      2,
      ours2,
      info2,
      ort2.rate,
      `onnxruntime ${ort2.onnxruntime} CPUExecutionProvider (torch.onnx.export), 2 threads`,
      'onnxruntime float32',
    ],
  ] as const;
  for (const [suffix, threads, ours, backend, theirs, peerName, peerKind] of rows) {
    await recordBenchmark({
      benchmark: `models-clip-tiny-embed-images${suffix}`,
      metric: 'image embedding (indexing) throughput, median round',
      unit: 'images/s',
      ours: ours.median,
      peer: theirs.median,
      peerName,
      higherIsBetter: true,
      backend: backend.name,
      details: { ...details, workload: workload(threads), peerKind },
    });
  }
  images.dispose();
  model.dispose();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
