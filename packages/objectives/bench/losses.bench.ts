/**
 * Forward + backward time of two losses that run every step, against PyTorch 2.13 from .venv-ref
 * (1 thread, BLAS pinned too) in the same run, on the same inputs, loss and gradient checked
 * equal before timing: CLIP's symmetric InfoNCE at batch 256 x 512, and the masked-LM token
 * cross-entropy over B32 x S64 positions and a 8,000-token vocabulary (15 % of positions
 * predicted). MLM has two rows: the peer gathering the predicted rows first (the work Tessera
 * does) and the peer over all rows with ignore_index (what BertForMaskedLM does).
 * 3 warm-up steps, then `steps` timed steps each side: median, min-max in details.
 * Writes bench-results/objectives-{clip,mlm}-loss-wasm*.json.
 *
 *   npm run bench -w @tessera/objectives        (TESSERA_BENCH_STEPS=n to time more steps)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  backendInfo,
  initBackend,
  recordBenchmark,
  referencePython,
  SeededRandom,
  type Spread,
  spread,
  TesseraError,
  type TorchPeerSetting,
  tf,
  torchPeerSettings,
} from '@tessera/core';
import { clipLoss, mlmLoss } from '../src/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const steps = Number(process.env.TESSERA_BENCH_STEPS ?? 20);
const TOLERANCE = 1e-5;
const CLIP = { kind: 'clip', batch: 256, dim: 512 } as const;
const MLM = { kind: 'mlm', batch: 32, seq: 64, vocab: 8000 } as const;
const dir = mkdtempSync(path.join(os.tmpdir(), 'tessera-loss-bench-'));
const python = referencePython();

const write = (name: string, t: tf.Tensor) => writeFileSync(path.join(dir, name), new Uint8Array(t.dataSync().slice().buffer));

/** Writes Tessera's loss and the gradient of `checked`, which the peer must reproduce before it is timed. */
function expect(loss: number, grad: tf.Tensor) {
  writeFileSync(path.join(dir, 'expected.json'), JSON.stringify({ loss }));
  write('grad.f32', grad);
}

function peer(config: object): { ms: Spread; lossDiff: number; gradDiff: number; torch: string } {
  const run = spawnSync(python, [path.join(here, 'torch_peer.py'), JSON.stringify({ ...config, steps, dir, tolerance: TOLERANCE })], {
    encoding: 'utf8',
    env: (torchPeerSettings(1)[0] as TorchPeerSetting).env, // one thread, BLAS included
  });
  if (run.status !== 0) throw new TesseraError('E_BENCH_PEER', `PyTorch peer failed (${python}): ${run.stderr}`);
  const out = JSON.parse(run.stdout.trim().split('\n').at(-1) as string);
  return { ...out, ms: spread(out.ms) };
}

function time(step: () => void): { ms: Spread; tensorsFlat: boolean } {
  for (let i = 0; i < 3; i++) step();
  const counts: number[] = [];
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const start = performance.now();
    step();
    times.push(performance.now() - start);
    counts.push(tf.memory().numTensors);
  }
  return { ms: spread(times), tensorsFlat: new Set(counts).size === 1 };
}

await initBackend({ backend: 'wasm' });
// What ran, as the other benches name it: the native kernels only when @tessera/native is built and on.
const backendLabel = backendInfo().native.active ? 'wasm + Tessera kernels + @tessera/native' : 'wasm + Tessera kernels';
const rng = new SeededRandom(0);

try {
  const image = tf.tensor2d(
    rng.array(CLIP.batch * CLIP.dim, (r) => r.normal()),
    [CLIP.batch, CLIP.dim],
  );
  const text = tf.tensor2d(
    rng.array(CLIP.batch * CLIP.dim, (r) => r.normal()),
    [CLIP.batch, CLIP.dim],
  );
  const scale = tf.scalar(Math.log(1 / 0.07));
  const lossOf = (i: tf.Tensor, t: tf.Tensor, s: tf.Tensor) => clipLoss({ imageEmbeds: i, textEmbeds: t, logitScale: s }).loss;
  write('image.f32', image);
  write('text.f32', text);
  const { value, grads } = tf.valueAndGrads(lossOf)([image, text, scale]);
  expect(value.dataSync()[0] as number, grads[0] as tf.Tensor);
  tf.dispose([value, ...grads]);
  const ours = time(() => tf.dispose(tf.grads(lossOf)([image, text, scale])));
  const torch = peer(CLIP);
  await recordBenchmark({
    benchmark: 'objectives-clip-loss-wasm',
    metric: `CLIP InfoNCE forward + backward, batch ${CLIP.batch} x ${CLIP.dim}, median step`,
    unit: 'ms',
    ours: ours.ms.median,
    peer: torch.ms.median,
    peerName: `PyTorch ${torch.torch}, 1 thread`,
    higherIsBetter: false,
    backend: backendLabel,
    details: {
      ...CLIP,
      steps,
      ms: { ours: ours.ms, peer: torch.ms },
      lossDiff: torch.lossDiff,
      gradDiff: torch.gradDiff,
      tensorCountFlat: ours.tensorsFlat,
    },
  });
  tf.dispose([image, text, scale]);

  const n = MLM.batch * MLM.seq;
  const logits = tf.tensor3d(
    rng.array(n * MLM.vocab, (r) => r.normal()),
    [MLM.batch, MLM.seq, MLM.vocab],
  );
  const labelValues = Int32Array.from({ length: n }, () => (rng.bernoulli(0.15) ? rng.int(MLM.vocab) : -100));
  const labels = tf.tensor2d(labelValues, [MLM.batch, MLM.seq], 'int32');
  const mlmOf = (x: tf.Tensor) => mlmLoss({ logits: x, labels }).loss;
  write('logits.f32', logits);
  write('labels.i32', labels);
  const mlm = tf.valueAndGrad(mlmOf)(logits);
  expect(mlm.value.dataSync()[0] as number, mlm.grad);
  tf.dispose([mlm.value, mlm.grad]);
  const oursMlm = time(() => tf.dispose(tf.grad(mlmOf)(logits)));
  for (const rows of ['masked', 'all'] as const) {
    const torchMlm = peer({ ...MLM, rows });
    await recordBenchmark({
      benchmark: rows === 'masked' ? 'objectives-mlm-loss-wasm' : 'objectives-mlm-loss-wasm-vs-all-rows',
      metric: `masked-LM cross-entropy forward + backward, B${MLM.batch} S${MLM.seq} V${MLM.vocab}, median step`,
      unit: 'ms',
      ours: oursMlm.ms.median,
      peer: torchMlm.ms.median,
      peerName:
        rows === 'masked'
          ? `PyTorch ${torchMlm.torch}, 1 thread, predicted rows gathered first (same work as ours)`
          : `PyTorch ${torchMlm.torch}, 1 thread, all rows with ignore_index (as BertForMaskedLM)`,
      higherIsBetter: false,
      backend: backendLabel,
      details: {
        ...MLM,
        predicted: '15 %',
        predictedRows: labelValues.filter((v) => v !== -100).length,
        peerRows: rows,
        steps,
        ms: { ours: oursMlm.ms, peer: torchMlm.ms },
        lossDiff: torchMlm.lossDiff,
        gradDiff: torchMlm.gradDiff,
        tensorCountFlat: oursMlm.tensorsFlat,
        note: 'ours gathers the predicted rows before log-softmax',
      },
    });
  }
  tf.dispose([logits, labels]);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
