/**
 * Forward + backward time of two losses that run every step, against PyTorch (1 thread) in the
 * same run: CLIP's symmetric InfoNCE at batch 256 x 512, and the masked-LM token cross-entropy
 * over B32 x S64 positions and a 8,000-token vocabulary (15 % of positions predicted).
 * Writes bench-results/objectives-{clip,mlm}-loss-wasm.json.
 *
 *   npm run bench -w @tessera/objectives        (TESSERA_BENCH_STEPS=n to time more steps)
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend, recordBenchmark, SeededRandom, type TorchPeerSetting, tf, torchPeerSettings } from '@tessera/core';
import { clipLoss, mlmLoss } from '../src/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const steps = Number(process.env.TESSERA_BENCH_STEPS ?? 20);
const CLIP = { kind: 'clip', batch: 256, dim: 512 } as const;
const MLM = { kind: 'mlm', batch: 32, seq: 64, vocab: 8000 } as const;

function peer(config: object): number {
  const run = spawnSync('/usr/bin/python3', [path.join(here, 'torch_peer.py'), JSON.stringify({ ...config, steps })], {
    encoding: 'utf8',
    env: (torchPeerSettings(1)[0] as TorchPeerSetting).env, // one thread, BLAS included
  });
  if (run.status !== 0) throw new Error(`PyTorch peer failed: ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').at(-1) as string).msPerStep;
}

function time(step: () => void): { ms: number; tensorsFlat: boolean } {
  for (let i = 0; i < 3; i++) step();
  const counts: number[] = [];
  const start = performance.now();
  for (let i = 0; i < steps; i++) {
    step();
    counts.push(tf.memory().numTensors);
  }
  return { ms: (performance.now() - start) / steps, tensorsFlat: new Set(counts).size === 1 };
}

await initBackend({ backend: 'wasm' });
const rng = new SeededRandom(0);

{
  const image = tf.tensor2d(
    rng.array(CLIP.batch * CLIP.dim, (r) => r.normal()),
    [CLIP.batch, CLIP.dim],
  );
  const text = tf.tensor2d(
    rng.array(CLIP.batch * CLIP.dim, (r) => r.normal()),
    [CLIP.batch, CLIP.dim],
  );
  const scale = tf.scalar(Math.log(1 / 0.07));
  const ours = time(() => {
    const grads = tf.grads((i: tf.Tensor, t: tf.Tensor, s: tf.Tensor) => clipLoss({ imageEmbeds: i, textEmbeds: t, logitScale: s }).loss)([
      image,
      text,
      scale,
    ]);
    tf.dispose(grads);
  });
  await recordBenchmark({
    benchmark: 'objectives-clip-loss-wasm',
    metric: `CLIP InfoNCE forward + backward, batch ${CLIP.batch} x ${CLIP.dim}`,
    unit: 'ms',
    ours: ours.ms,
    peer: peer(CLIP),
    peerName: 'PyTorch 1.13, 1 thread',
    higherIsBetter: false,
    backend: 'wasm + Tessera kernels',
    details: { ...CLIP, steps, tensorCountFlat: ours.tensorsFlat },
  });
  tf.dispose([image, text, scale]);
}

{
  const n = MLM.batch * MLM.seq;
  const logits = tf.tensor3d(
    rng.array(n * MLM.vocab, (r) => r.normal()),
    [MLM.batch, MLM.seq, MLM.vocab],
  );
  const labelValues = Int32Array.from({ length: n }, () => (rng.bernoulli(0.15) ? rng.int(MLM.vocab) : -100));
  const labels = tf.tensor2d(labelValues, [MLM.batch, MLM.seq], 'int32');
  const ours = time(() => {
    tf.dispose(tf.grad((x: tf.Tensor) => mlmLoss({ logits: x, labels }).loss)(logits));
  });
  await recordBenchmark({
    benchmark: 'objectives-mlm-loss-wasm',
    metric: `masked-LM cross-entropy forward + backward, B${MLM.batch} S${MLM.seq} V${MLM.vocab}`,
    unit: 'ms',
    ours: ours.ms,
    peer: peer(MLM),
    peerName: 'PyTorch 1.13, 1 thread',
    higherIsBetter: false,
    backend: 'wasm + Tessera kernels',
    details: {
      ...MLM,
      predicted: '15 %',
      steps,
      tensorCountFlat: ours.tensorsFlat,
      note: 'ours gathers the predicted rows before log-softmax; the peer runs F.cross_entropy(ignore_index=-100) over all rows, as Hugging Face BertForMaskedLM does',
    },
  });
  tf.dispose([logits, labels]);
}
