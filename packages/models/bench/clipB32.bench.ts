/**
 * Speed at real size: a CLIP with the exact architecture of openai/clip-vit-base-patch32
 * (random weights, written as a Hugging Face folder by make_clip_b32.py) loaded with
 * `loadPretrained`, against transformers' CLIPModel on PyTorch 2.13 loading the same folder
 * (torch_clip_b32.py), in the same run, same threads, same batches:
 * - image embedding (what `tessera index` runs per chunk after preprocessing: vision tower,
 *   projection, L2 normalisation) of a batch of 224x224 images;
 * - text embedding (`tessera search`, `embedTexts`) of a batch of captions of 16 tokens, the
 *   shorter ones padded.
 * Embeddings must agree within 1e-4. Throughput at 1 thread and at 2 (the native kernels'
 * threads; PyTorch's intra-op threads), best round of each, Tessera's rounds alternating with
 * PyTorch's (the peer stays up between them) so that both meet the same load on a shared
 * machine; and the peak RSS of each process (Tessera's includes loading the folder).
 * Usage: npm run bench [-- <hf folder>]   (default: make_clip_b32.py writes one to a temp dir)
 * TESSERA_PYTHON: the Python with torch 2.13 + transformers 5.18 (default .venv-ref/bin/python
 * at the workspace root, else python3). TESSERA_BENCH_STEPS (batches per round, default 2),
 * TESSERA_BENCH_ROUNDS (default 3), TESSERA_BENCH_IMAGE_BATCH (default 32) and
 * TESSERA_BENCH_TEXT_BATCH (default 64) shorten or lengthen a run.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { initBackend, recordBenchmark, SeededRandom, TesseraError, tf, workspaceRoot } from '@tessera/core';
import { DualEncoder, loadPretrained } from '../src/index.js';

const TOLERANCE = 1e-4;
const IMAGE_BATCH = Number(process.env.TESSERA_BENCH_IMAGE_BATCH ?? 32);
const TEXT_BATCH = Number(process.env.TESSERA_BENCH_TEXT_BATCH ?? 64);
const TEXT_LENGTH = 16;
const EOS = 49407; // CLIP's <|endoftext|>: the highest id, so the legacy argmax pooling finds it
const steps = Number(process.env.TESSERA_BENCH_STEPS ?? 2);
const rounds = Number(process.env.TESSERA_BENCH_ROUNDS ?? 3);
const venv = path.join(workspaceRoot(), '.venv-ref', 'bin', 'python');
const python = process.env.TESSERA_PYTHON ?? (existsSync(venv) ? venv : 'python3');
const here = path.dirname(fileURLToPath(import.meta.url));

/** Runs one of the Python scripts beside this file; its last stdout line is JSON. */
function runPython(script: string, args: string[]): Record<string, unknown> {
  const run = spawnSync(python, [path.join(here, script), ...args], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (run.status !== 0) {
    throw new TesseraError(
      'E_BENCH_PEER',
      `${script} failed (exit ${run.status}) with ${python}: ${run.stderr || run.error}. It needs torch 2.13 and transformers 5.18: set TESSERA_PYTHON to such a Python (see /work/shared/notes/python-references.md for the local index)`,
    );
  }
  return JSON.parse(run.stdout.trim().split('\n').pop() as string);
}

/** torch_clip_b32.py kept running: it checks its embeddings against ours, then times one round per request. */
class Peer {
  private readonly child;
  private readonly lines: AsyncIterator<string>;
  private stderr = '';

  constructor(job: string, threads: number) {
    const env = { ...process.env, OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: '1' };
    this.child = spawn(python, [path.join(here, 'torch_clip_b32.py'), job], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.on('data', (d) => {
      this.stderr += String(d);
    });
    this.lines = createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
  }

  private async read(): Promise<Record<string, number | string>> {
    const next = await this.lines.next();
    if (next.done) {
      throw new TesseraError(
        'E_BENCH_PEER',
        `torch_clip_b32.py with ${python} stopped: ${this.stderr.trim().split('\n').slice(-5).join('\n')}`,
      );
    }
    return JSON.parse(next.value);
  }

  /** Waits for the check: the largest difference from our embeddings, and the versions. */
  ready() {
    return this.read() as Promise<{ maxAbsDiff: number; torch: string; transformers: string }>;
  }

  async round(what: 'images' | 'texts'): Promise<number> {
    this.child.stdin.write(`${what}\n`);
    return (await this.read()).perSecond as number;
  }

  async done(): Promise<number> {
    this.child.stdin.write('done\n');
    return (await this.read()).peakRssMiB as number;
  }
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'tessera-clip-b32-bench-'));
try {
  const folder = process.argv[2] ?? path.join(dir, 'clip-vit-base-patch32');
  if (!process.argv[2]) runPython('make_clip_b32.py', [folder]);
  const info = await initBackend();
  const { model } = await loadPretrained(folder);
  if (!(model instanceof DualEncoder)) throw new TesseraError('E_CONFIG', `clipB32.bench needs a CLIP folder, got ${folder}`);
  model.eval();
  const rng = new SeededRandom(0);
  const images = tf.tensor4d(
    rng.array(IMAGE_BATCH * 3 * 224 * 224, (r) => r.normal()),
    [IMAGE_BATCH, 3, 224, 224],
  );
  // Captions of 8..16 tokens: BOS, words, EOS, then padding (mask 0).
  const ids = new Int32Array(TEXT_BATCH * TEXT_LENGTH);
  const mask = new Int32Array(TEXT_BATCH * TEXT_LENGTH);
  for (let t = 0; t < TEXT_BATCH; t++) {
    const length = 8 + (t % (TEXT_LENGTH - 7));
    for (let s = 0; s < length; s++) {
      ids[t * TEXT_LENGTH + s] = s === 0 ? EOS - 1 : s === length - 1 ? EOS : 3 + rng.int(EOS - 10);
      mask[t * TEXT_LENGTH + s] = 1;
    }
  }
  const idsTensor = tf.tensor2d(ids, [TEXT_BATCH, TEXT_LENGTH], 'int32');
  const maskTensor = tf.tensor2d(mask, [TEXT_BATCH, TEXT_LENGTH], 'int32');
  const embedImages = () => model.encodeImage(images);
  const embedTexts = () => model.encodeText(idsTensor, maskTensor);

  /** Items/s of one round: the batch embedded `steps` times, each result read back. */
  const round = (embed: () => tf.Tensor, count: number) => {
    const start = performance.now();
    for (let i = 0; i < steps; i++) {
      const embeds = embed();
      embeds.dataSync();
      embeds.dispose();
    }
    return (count * steps) / ((performance.now() - start) / 1000);
  };
  const write = (name: string, data: Float32Array | Int32Array) => {
    const file = path.join(dir, name);
    writeFileSync(file, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return file;
  };
  const expectedImages = embedImages();
  const expectedTexts = embedTexts();
  const job = {
    dir: folder,
    images: write('images.f32', images.dataSync() as Float32Array),
    imageBatch: IMAGE_BATCH,
    expectedImages: write('expected-images.f32', expectedImages.dataSync() as Float32Array),
    ids: write('ids.i32', ids),
    mask: write('mask.i32', mask),
    textBatch: TEXT_BATCH,
    textLength: TEXT_LENGTH,
    expectedTexts: write('expected-texts.f32', expectedTexts.dataSync() as Float32Array),
    steps,
    tolerance: TOLERANCE,
  };
  /**
   * At `threads` threads: a PyTorch peer checks its embeddings against ours, then its rounds
   * and ours alternate (images, then texts); the best round of each side counts.
   */
  const measure = async (threads: number) => {
    const file = path.join(dir, `job-${threads}.json`);
    writeFileSync(file, JSON.stringify({ ...job, threads }));
    const peer = new Peer(file, threads);
    const check = await peer.ready();
    const best = { images: 0, texts: 0, torchImages: 0, torchTexts: 0 };
    for (const [what, embed, count] of [
      ['images', embedImages, IMAGE_BATCH],
      ['texts', embedTexts, TEXT_BATCH],
    ] as const) {
      embed().dispose(); // warm-up
      for (let r = 0; r < rounds; r++) {
        best[what] = Math.max(best[what], round(embed, count));
        const key = what === 'images' ? 'torchImages' : 'torchTexts';
        best[key] = Math.max(best[key], await peer.round(what));
      }
    }
    return { ...best, ...check, peakRssMiB: await peer.done() };
  };
  const at1 = await measure(1);
  const info2 = await initBackend({ threads: 2 });
  // Threaded products sum in another order: the same embeddings within the tolerance.
  const drift = tf.tidy(() =>
    Math.max(
      tf.max(tf.abs(tf.sub(embedImages(), expectedImages))).dataSync()[0] as number,
      tf.max(tf.abs(tf.sub(embedTexts(), expectedTexts))).dataSync()[0] as number,
    ),
  );
  if (!(drift <= TOLERANCE)) throw new TesseraError('E_BENCH', `2-thread embeddings differ from 1-thread ones by ${drift}`);
  const at2 = await measure(2);
  const oursRssMiB = process.resourceUsage().maxRSS / 1024;
  const versions = `torch ${at1.torch}, transformers ${at1.transformers}`;

  const details = {
    model: 'openai/clip-vit-base-patch32 architecture, random weights (make_clip_b32.py)',
    folder: process.argv[2] ?? 'written by make_clip_b32.py to a temp dir',
    imageBatch: `${IMAGE_BATCH} images 3x224x224: vision tower + visual projection + L2 normalisation, forward only`,
    textBatch: `${TEXT_BATCH} captions of 8-${TEXT_LENGTH} tokens padded to ${TEXT_LENGTH}: text tower + projection + L2 normalisation`,
    steps,
    rounds,
    maxAbsDiff: Math.max(at1.maxAbsDiff, at2.maxAbsDiff),
    maxAbsDiff2Threads: drift,
    tolerance: TOLERANCE,
    peakRssMiB: { tessera: Math.round(oursRssMiB), pytorch: Math.round(Math.max(at1.peakRssMiB, at2.peakRssMiB)) },
    ours2Threads: info2.native.active ? info2.threads : 1,
    torch2Setting: 'torch.set_num_threads(2) (MKL and OpenMP), OPENBLAS_NUM_THREADS=1',
    peer: versions,
    native: info.native.active ? info.native.blas : 'off',
  };
  for (const [what, unit, ours, theirs] of [
    ['images', 'images/s', at1.images, at1.torchImages],
    ['texts', 'texts/s', at1.texts, at1.torchTexts],
    ['images-2threads', 'images/s', at2.images, at2.torchImages],
    ['texts-2threads', 'texts/s', at2.texts, at2.torchTexts],
  ] as const) {
    await recordBenchmark({
      benchmark: `models-clip-b32-embed-${what}`,
      metric: what.startsWith('images') ? 'ViT-B/32 image embedding (indexing) throughput' : 'ViT-B/32 text embedding throughput',
      unit,
      ours,
      peer: theirs,
      peerName: `PyTorch ${at1.torch} + transformers ${at1.transformers}, ${what.endsWith('2threads') ? 2 : 1} thread${what.endsWith('2threads') ? 's' : ''}`,
      higherIsBetter: true,
      backend: (what.endsWith('2threads') ? info2 : info).name,
      details,
    });
  }
  process.stderr.write(`[bench] peak RSS: Tessera ${details.peakRssMiB.tessera} MiB, PyTorch ${details.peakRssMiB.pytorch} MiB\n`);
  tf.dispose([images, idsTensor, maskTensor, expectedImages, expectedTexts]);
  model.dispose();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
