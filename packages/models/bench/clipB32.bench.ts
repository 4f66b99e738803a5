/**
 * Speed at real size: a CLIP with the exact architecture of openai/clip-vit-base-patch32
 * (random weights, written as a Hugging Face folder by make_clip_b32.py) loaded with
 * `loadPretrained`, against two peers on the same folder, in the same run, same threads, same
 * batches, float32:
 * - transformers' CLIPModel on PyTorch 2.13 (torch_clip_b32.py), and also under
 *   torch.autocast('cpu', dtype=torch.bfloat16) for the image batch (a row of its own, with the
 *   cosine of its embeddings to float32's: not the same precision, so not an equal-work peer);
 * - onnxruntime 1.30 (ort_clip.py): the same CLIPModel functions exported with torch.onnx.export
 *   into this run's temp dir, CPUExecutionProvider, intra-op threads = ours, inter-op 1, sequential.
 * Workloads:
 * - image embedding (what `tessera index` runs per chunk after preprocessing: vision tower,
 *   projection, L2 normalisation) of a batch of 224x224 images;
 * - text embedding (`tessera search`, `embedTexts`) of a batch of captions of 16 tokens, the
 *   shorter ones padded.
 * Every peer's float32 embeddings must agree with ours within 1e-4 before anything is timed.
 * Throughput at 1 thread and at 2 (the native kernels' threads; PyTorch's intra-op threads;
 * onnxruntime's intra-op threads): one warm-up batch, then `rounds` rounds per side, the sides'
 * rounds interleaved (the peers stay up between them, the order rotating each round) so that all
 * meet the same load on a shared machine; the median round counts, min-max in details; and the
 * peak RSS of each process (Tessera's includes loading the folder; onnxruntime's the export).
 * Usage: npm run bench [-- <hf folder>]   (default: make_clip_b32.py writes one to a temp dir)
 * TESSERA_PYTHON: the Python with torch 2.13 + transformers 5.18 + onnxruntime 1.30 + onnx/onnxscript
 * (default .venv-ref/bin/python at the workspace root, else python3). TESSERA_BENCH_STEPS (batches
 * per round, default 2), TESSERA_BENCH_ROUNDS (default 5), TESSERA_BENCH_IMAGE_BATCH (default 32) and
 * TESSERA_BENCH_TEXT_BATCH (default 64) shorten or lengthen a run.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { initBackend, recordBenchmark, SeededRandom, type Spread, spread, TesseraError, tf, workspaceRoot } from '@tessera/core';
import { DualEncoder, loadPretrained } from '../src/index.js';

const TOLERANCE = 1e-4;
const IMAGE_BATCH = Number(process.env.TESSERA_BENCH_IMAGE_BATCH ?? 32);
const TEXT_BATCH = Number(process.env.TESSERA_BENCH_TEXT_BATCH ?? 64);
const TEXT_LENGTH = 16;
const EOS = 49407; // CLIP's <|endoftext|>: the highest id, so the legacy argmax pooling finds it
const steps = Number(process.env.TESSERA_BENCH_STEPS ?? 2);
const rounds = Number(process.env.TESSERA_BENCH_ROUNDS ?? 5);
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

/** The CPU's bf16 matrix instructions (what PyTorch's bf16 autocast can use), from /proc/cpuinfo. */
function cpuBf16(): string {
  let flags: string[] = [];
  try {
    flags = (/^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '').trim().split(/\s+/);
  } catch {
    return 'unknown (no /proc/cpuinfo)';
  }
  const found = ['amx_bf16', 'amx_tile', 'avx512_bf16'].filter((f) => flags.includes(f));
  return found.length > 0 ? found.join(', ') : 'none (no AMX, no AVX512-BF16)';
}

/** A peer script kept running (torch_clip_b32.py, ort_clip.py): it checks its embeddings against ours, then times one round per request. */
class Peer<Ready> {
  private readonly child;
  private readonly lines: AsyncIterator<string>;
  private stderr = '';

  constructor(
    private readonly script: string,
    job: string,
    threads: number,
  ) {
    const env = { ...process.env, OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: '1' };
    this.child = spawn(python, [path.join(here, script), job], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.on('data', (d) => {
      this.stderr += String(d);
    });
    this.lines = createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
  }

  private async read(): Promise<Record<string, unknown>> {
    const next = await this.lines.next();
    if (next.done) {
      throw new TesseraError(
        'E_BENCH_PEER',
        `${this.script} with ${python} stopped: ${this.stderr.trim().split('\n').slice(-5).join('\n')}`,
      );
    }
    return JSON.parse(next.value);
  }

  /** Waits for the check: the largest difference from our embeddings, and the versions. */
  ready() {
    return this.read() as Promise<Ready>;
  }

  async round(what: string): Promise<number> {
    this.child.stdin.write(`${what}\n`);
    return (await this.read()).perSecond as number;
  }

  async done(): Promise<number> {
    this.child.stdin.write('done\n');
    return (await this.read()).peakRssMiB as number;
  }
}

type TorchReady = { maxAbsDiff: number; torch: string; transformers: string; bf16Cosine: { min: number; mean: number } };
type OrtReady = { maxAbsDiff: number; onnxruntime: string; onnx: string; torch: string; opset: number; exportSeconds: number };

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
   * At `threads` threads: the PyTorch and onnxruntime peers check their embeddings against ours,
   * then the sides' rounds interleave (images, then texts), the order rotating each round.
   */
  const measure = async (threads: number) => {
    const file = path.join(dir, `job-${threads}.json`);
    writeFileSync(file, JSON.stringify({ ...job, threads }));
    const ortFile = path.join(dir, `ort-job-${threads}.json`);
    writeFileSync(ortFile, JSON.stringify({ ...job, threads, source: 'hf', imageSize: 224, onnxDir: path.join(dir, 'onnx') }));
    const torch = new Peer<TorchReady>('torch_clip_b32.py', file, threads);
    const check = await torch.ready();
    const ort = new Peer<OrtReady>('ort_clip.py', ortFile, threads);
    const ortCheck = await ort.ready();
    const rates: Record<string, number[]> = {};
    const add = (key: string, rate: number) => {
      rates[key] = [...(rates[key] ?? []), rate];
    };
    for (const [what, embed, count] of [
      ['images', embedImages, IMAGE_BATCH],
      ['texts', embedTexts, TEXT_BATCH],
    ] as const) {
      embed().dispose(); // warm-up (the peers warmed up in their checks)
      const sides: [string, () => Promise<number>][] = [
        ['ours', async () => round(embed, count)],
        ['torch', () => torch.round(what)],
        ['ort', () => ort.round(what)],
        ...(what === 'images' ? [['torchBf16', () => torch.round('images-bf16')] as [string, () => Promise<number>]] : []),
      ];
      for (let r = 0; r < rounds; r++) {
        for (let k = 0; k < sides.length; k++) {
          const [side, run] = sides[(r + k) % sides.length] as [string, () => Promise<number>];
          add(`${what}.${side}`, await run());
        }
      }
    }
    const spreads = Object.fromEntries(Object.entries(rates).map(([key, values]) => [key, spread(values)])) as Record<string, Spread>;
    return { spreads, check, ortCheck, peakRssMiB: await torch.done(), ortPeakRssMiB: await ort.done() };
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
  const torchVersions = `PyTorch ${at1.check.torch} + transformers ${at1.check.transformers}`;
  const ortVersion = `onnxruntime ${at1.ortCheck.onnxruntime}`;
  const median = (at: typeof at1, key: string) => (at.spreads[key] as Spread).median;
  const spreadsOf = (at: typeof at1) =>
    Object.fromEntries(Object.entries(at.spreads).map(([k, v]) => [k, { median: v.median, min: v.min, max: v.max, count: v.count }]));

  const details = {
    model: 'openai/clip-vit-base-patch32 architecture, random weights (make_clip_b32.py)',
    folder: process.argv[2] ?? 'written by make_clip_b32.py to a temp dir',
    imageBatch: `${IMAGE_BATCH} images 3x224x224: vision tower + visual projection + L2 normalisation, forward only`,
    textBatch: `${TEXT_BATCH} captions of 8-${TEXT_LENGTH} tokens padded to ${TEXT_LENGTH}: text tower + projection + L2 normalisation`,
    steps,
    rounds,
    timing: 'median round of each side (items/s); rounds of all sides interleaved, order rotating; min-max in perSecond',
    perSecond: { '1thread': spreadsOf(at1), '2threads': spreadsOf(at2) },
    maxAbsDiff: Math.max(at1.check.maxAbsDiff, at2.check.maxAbsDiff),
    maxAbsDiffOnnxruntime: Math.max(at1.ortCheck.maxAbsDiff, at2.ortCheck.maxAbsDiff),
    maxAbsDiff2Threads: drift,
    tolerance: TOLERANCE,
    bf16CosineToFloat32: { '1thread': at1.check.bf16Cosine, '2threads': at2.check.bf16Cosine },
    peakRssMiB: {
      tessera: Math.round(oursRssMiB),
      pytorch: Math.round(Math.max(at1.peakRssMiB, at2.peakRssMiB)),
      onnxruntime: Math.round(Math.max(at1.ortPeakRssMiB, at2.ortPeakRssMiB)),
    },
    ours2Threads: info2.native.active ? info2.threads : 1,
    torch2Setting: 'torch.set_num_threads(2) (MKL and OpenMP), OPENBLAS_NUM_THREADS=1',
    onnxruntimeSetting:
      'torch.onnx.export(dynamo=True, fixed bench shapes), InferenceSession(CPUExecutionProvider, intra_op_num_threads = threads, inter_op_num_threads 1, ORT_SEQUENTIAL, ORT_ENABLE_ALL)',
    onnxOpset: at1.ortCheck.opset,
    onnxExportSeconds: at1.ortCheck.exportSeconds,
    peer: `torch ${at1.check.torch}, transformers ${at1.check.transformers}, onnxruntime ${at1.ortCheck.onnxruntime}, onnx ${at1.ortCheck.onnx}`,
    versions: {
      torch: at1.check.torch,
      transformers: at1.check.transformers,
      onnxruntime: at1.ortCheck.onnxruntime,
      onnx: at1.ortCheck.onnx,
    },
    cpuBf16: cpuBf16(),
    native: info.native.active ? info.native.blas : 'off',
  };
  const threadsLabel = (n: number) => `${n} thread${n > 1 ? 's' : ''}`;
  for (const [at, threads] of [
    [at1, 1],
    [at2, 2],
  ] as const) {
    const suffix = threads === 2 ? '-2threads' : '';
    for (const [what, unit] of [
      ['images', 'images/s'],
      ['texts', 'texts/s'],
    ] as const) {
      const metric = what === 'images' ? 'ViT-B/32 image embedding (indexing) throughput' : 'ViT-B/32 text embedding throughput';
      const workload = `ViT-B/32 ${what === 'images' ? `image embedding, batch ${IMAGE_BATCH}` : `text embedding, batch ${TEXT_BATCH} x ${TEXT_LENGTH}`}, ${threadsLabel(threads)}`;
      const peers = [
        ['', 'torch', 'PyTorch float32', `${torchVersions}, ${threadsLabel(threads)}`],
        ['-ort', 'ort', 'onnxruntime float32', `${ortVersion} CPUExecutionProvider (torch.onnx.export), ${threadsLabel(threads)}`],
        ...(what === 'images'
          ? [
              [
                '-torch-bf16',
                'torchBf16',
                'PyTorch bf16 autocast',
                `${torchVersions}, bf16 autocast (embedding cosine to float32 >= ${at.check.bf16Cosine.min.toFixed(4)}), ${threadsLabel(threads)}`,
              ],
            ]
          : []),
      ] as const;
      for (const [name, key, peerKind, peerName] of peers) {
        await recordBenchmark({
          benchmark: `models-clip-b32-embed-${what}${suffix}${name}`,
          metric: `${metric}, median round`,
          unit,
          ours: median(at, `${what}.ours`),
          peer: median(at, `${what}.${key}`),
          peerName,
          higherIsBetter: true,
          backend: (threads === 2 ? info2 : info).name,
          details: { ...details, workload, peerKind },
        });
      }
    }
  }
  process.stderr.write(`[bench] peak RSS: Tessera ${details.peakRssMiB.tessera} MiB, PyTorch ${details.peakRssMiB.pytorch} MiB\n`);
  tf.dispose([images, idsTensor, maskTensor, expectedImages, expectedTexts]);
  model.dispose();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
