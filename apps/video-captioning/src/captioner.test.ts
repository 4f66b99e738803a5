import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { serve } from '@hono/node-server';
import { initBackend, tf } from '@tessera/core';
import { readManifest } from '@tessera/data';
import { buildMovingEmojiDataset } from '@tessera/dataset-moving-emoji';
import { CaptionVocab, loadCaptioner, loadTesseraCaptioner } from '@tessera/models';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CaptionBatchSource, loadCaptionSet } from './captionDataset.js';
import { createCaptionRoute } from './captionRoute.js';
import { captionVideo } from './captionVideo.js';
import { clipTensor } from './clipFrames.js';
import { createCaptionCommand, createCaptioningCommands } from './commands.js';
import { evaluateCaptioner } from './evaluateCaptioner.js';
import { inputErrorStatus } from './inputErrorStatus.js';
import { trainCaptioner } from './trainCaptioner.js';
import { greedyDecodeUncached } from './uncachedGreedy.js';

const FFMPEG = '/usr/bin/ffmpeg';
let dir: string;
let manifest: string;
let firstClip: string;
/** Per training clip: its English and Chinese caption (one each, so a memorised caption is well defined). */
let expected: Array<{ en: string; zh: string }>;
let modelDir: string;
let losses: number[];

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  dir = await mkdtemp(path.join(os.tmpdir(), 'tessera-captioning-'));
  const built = await buildMovingEmojiDataset({
    outDir: path.join(dir, 'set'),
    clips: 4,
    concepts: 4,
    size: 32,
    emojiSize: 20,
    frames: 4,
    twoObjectFraction: 0,
    testFraction: 0,
    seed: 3,
  });
  const all = await readManifest(built.manifests.all);
  const rows = all.records.map((r) => {
    const en = r.captions.find((c) => c.lang === 'en')?.text as string;
    const zh = r.captions.find((c) => c.lang === 'zh')?.text as string;
    return {
      video: path.join('set', r.key),
      captions: [
        { text: en, lang: 'en' },
        { text: zh, lang: 'zh' },
      ],
      split: 'train',
      en,
      zh,
    };
  });
  expected = rows.map(({ en, zh }) => ({ en, zh }));
  firstClip = path.join(dir, rows[0]?.video as string);
  manifest = path.join(dir, 'train.jsonl');
  await writeFile(manifest, rows.map(({ en: _e, zh: _z, ...r }) => JSON.stringify(r)).join('\n'));
  const run = await trainCaptioner({
    model: {
      numFrames: 4,
      imageSize: 32,
      patchSize: 8,
      videoMode: 'joint',
      visionDim: 32,
      visionLayers: 1,
      textDim: 32,
      textLayers: 1,
      maxLength: 16,
    },
    data: { manifest },
    loss: { labelSmoothing: 0 },
    train: { lr: 3e-3, steps: 300, batchSize: 4, warmupSteps: 5, weightDecay: 0, outputDir: path.join(dir, 'run'), seed: 1 },
  });
  modelDir = run.modelDir;
  losses = run.result.losses;
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('Captioner training', () => {
  it('overfits a handful of clips: the loss falls and greedy decoding reproduces the training captions in both languages', async () => {
    expect(losses.length).toBe(300);
    const first = losses.slice(0, 5).reduce((a, b) => a + b) / 5;
    const last = losses.slice(-5).reduce((a, b) => a + b) / 5;
    expect(last).toBeLessThan(first / 5);
    const captioner = await loadCaptioner(modelDir);
    const set = await loadCaptionSet(manifest, { numFrames: 4, imageSize: 32 });
    const en = evaluateCaptioner(captioner, set.clips, { lang: 'en' });
    const zh = evaluateCaptioner(captioner, set.clips, { lang: 'zh' });
    // Captions lowercased and stripped of punctuation, as the caption metrics tokenise them.
    const norm = (s: string) => s.toLowerCase().replace(/[，.]/g, '');
    expect(en.examples.map((x) => x.candidate)).toEqual(expected.map((x) => norm(x.en)));
    expect(zh.examples.map((x) => x.candidate)).toEqual(expected.map((x) => norm(x.zh)));
    // Exact matches score BLEU-4 1 (every n-gram matches, no brevity penalty).
    expect(en.scores.bleu4).toBeCloseTo(1, 6);
    captioner.model.dispose();
  });

  it('saves and reloads a model directory with identical weights and outputs', async () => {
    const a = await loadTesseraCaptioner(modelDir);
    const b = await loadTesseraCaptioner(modelDir);
    const sa = await a.model.stateDict();
    const sb = await b.model.stateDict();
    expect([...sa.keys()]).toEqual([...sb.keys()]);
    expect(sa.has('video.embeddings.projection.weight')).toBe(true);
    expect([...sa.keys()].some((k) => k.startsWith('decoder.decoder.layers.0.cross_attn'))).toBe(true);
    const set = await loadCaptionSet(manifest, { numFrames: 4, imageSize: 32, limit: 2 });
    const video = clipTensor(
      set.clips.map((c) => c.frames),
      4,
      32,
    );
    const ids = tf.tensor2d(
      [
        [3, 5, 6],
        [4, 7, 8],
      ],
      [2, 3],
      'int32',
    );
    const la = a.model.forward(video, ids);
    const lb = b.model.forward(video, ids);
    expect(Array.from(await la.data())).toEqual(Array.from(await lb.data()));
    expect(b.vocab.tokens).toEqual(a.vocab.tokens);
    tf.dispose([video, ids, la, lb]);
    a.model.dispose();
    b.model.dispose();
  });
});

describe('CaptionBatchSource', () => {
  it('ends each epoch with null and resumes from state() with the same batches', async () => {
    const set = await loadCaptionSet(manifest, { numFrames: 4, imageSize: 32 });
    const vocab = CaptionVocab.build(set.clips.flatMap((c) => c.captions.map((x) => x.text)));
    const options = { batchSize: 3, numFrames: 4, imageSize: 32, maxLength: 16, seed: 5 };
    const read = async (source: CaptionBatchSource, n: number) => {
      const out: Array<number[][] | null> = [];
      for (let i = 0; i < n; i++) {
        const b = await source.next();
        out.push(b ? (b.ids.arraySync() as number[][]) : null);
        if (b) expect(b.video.shape).toEqual([b.size, 4, 3, 32, 32]);
      }
      return out;
    };
    const a = new CaptionBatchSource(set.clips, vocab, options);
    const first = await read(a, 1);
    const state = JSON.parse(JSON.stringify(a.state()));
    const rest = await read(a, 4);
    // 4 clips in batches of 3: two batches, then the end of the epoch.
    expect(first[0]?.length).toBe(3);
    expect(rest.map((b) => b?.length ?? null)).toEqual([1, null, 3, 1]);
    const b = new CaptionBatchSource(set.clips, vocab, options);
    b.restore(state);
    expect(await read(b, 4)).toEqual(rest);
    // Every row starts with a language token and ends with EOS before padding.
    for (const row of first[0] ?? []) {
      expect([vocab.langId('en'), vocab.langId('zh')]).toContain(row[0]);
      expect(row.filter((t) => t !== vocab.padId).at(-1)).toBe(vocab.eosId);
    }
    a.dispose();
    b.dispose();
  });

  it('keeps the micro-batches of an accumulated step alive until the step has used them', async () => {
    const run = await trainCaptioner({
      model: { numFrames: 4, imageSize: 32, patchSize: 8, visionDim: 16, visionLayers: 1, textDim: 16, textLayers: 1, maxLength: 16 },
      data: { manifest },
      train: { lr: 1e-3, steps: 2, batchSize: 2, accumulation: 2, outputDir: path.join(dir, 'accumulated'), seed: 1 },
    });
    expect(run.result.step).toBe(2);
    expect(run.result.losses.every(Number.isFinite)).toBe(true);
  });
});

describe('decoding', () => {
  it('greedy decoding with the key/value cache gives the same tokens as re-running the whole prefix, in both languages', async () => {
    const { model, vocab } = await loadTesseraCaptioner(modelDir);
    const set = await loadCaptionSet(manifest, { numFrames: 4, imageSize: 32 });
    const video = clipTensor(
      set.clips.map((c) => c.frames),
      4,
      32,
    );
    for (const lang of ['en', 'zh'] as const) {
      const cached = model.generate(video, { startId: vocab.langId(lang) });
      const uncached = greedyDecodeUncached(model, video, vocab.langId(lang));
      expect(uncached).toEqual(cached);
      expect(uncached.map((ids) => vocab.decode(ids))).toEqual(expected.map((x) => x[lang].toLowerCase().replace(/[，.]/g, '')));
    }
    video.dispose();
    model.dispose();
  });
});

describe('caption command and bad inputs', () => {
  it('captions a real clip with beam search and prints JSON', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      await createCaptionCommand().parseAsync(['node', 'caption', firstClip, '--checkpoint', modelDir, '--beam', '3', '--json'], {
        from: 'node',
      });
      const printed = JSON.parse(String(log.mock.calls[0]?.[0]));
      expect(printed).toMatchObject({ video: firstClip, lang: 'en', beams: 3, caption: String(expected[0]?.en).toLowerCase() });
    } finally {
      log.mockRestore();
    }
  });

  it('eval captions prints BLEU, ROUGE-L and CIDEr-D per language as JSON', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      const evalCmd = createCaptioningCommands().find((c) => c.name() === 'eval');
      await evalCmd?.parseAsync(['node', 'eval', 'captions', '--checkpoint', modelDir, '--data', manifest, '--json'], { from: 'node' });
      const printed = JSON.parse(String(log.mock.calls[0]?.[0]));
      expect(printed.results.map((r: { lang: string }) => r.lang)).toEqual(['en', 'zh']);
      // The memorised captions match their references exactly: every n-gram precision is 1.
      for (const r of printed.results) {
        expect(r.scores.count).toBe(4);
        expect(r.scores.bleu4).toBeCloseTo(1, 6);
        expect(r.scores.rougeL).toBeCloseTo(1, 6);
      }
    } finally {
      log.mockRestore();
    }
  });

  it('captions a real camera clip of another size, codec and length (OpenCV sample tree.avi, 2 s)', async () => {
    const captioner = await loadCaptioner(modelDir);
    const tree = path.resolve(import.meta.dirname, '../../../packages/patches/test/fixtures/tree_2s.avi');
    for (const lang of ['en', 'zh'] as const) {
      const r = await captionVideo(captioner, tree, { lang, beams: 2 });
      expect(r.tokens.length).toBeGreaterThan(0);
      expect(r.tokens.every((t) => t > 4 && t < captioner.model.vocabSize)).toBe(true);
      expect(r.caption).toBe(captioner.text.decode(r.tokens));
      // Decoding is held to the words of the requested language.
      expect(r.caption).not.toMatch(lang === 'zh' ? /[A-Za-z]/ : /[\u3400-\u9fff]/);
    }
    captioner.model.dispose();
  });

  it('gives typed 4xx errors for a non-video, an empty, a truncated and an audio-only file', async () => {
    const captioner = await loadCaptioner(modelDir);
    const text = path.join(dir, 'notes.mp4');
    await writeFile(text, 'this is not a video\n');
    const empty = path.join(dir, 'empty.mp4');
    await writeFile(empty, '');
    const truncated = path.join(dir, 'truncated.mp4');
    await writeFile(truncated, (await readFile(firstClip)).subarray(0, 200));
    const audio = path.join(dir, 'tone.m4a');
    execFileSync(FFMPEG, ['-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=0.5', '-c:a', 'aac', audio]);
    const cases: Array<[string, string, number]> = [
      [text, 'E_VIDEO_CORRUPT', 422],
      [empty, 'E_FILE_EMPTY', 400],
      [truncated, 'E_VIDEO_CORRUPT', 422],
      [audio, 'E_VIDEO_NO_STREAM', 415],
    ];
    for (const [file, code, status] of cases) {
      const error = await captionVideo(captioner, file).catch((e: unknown) => e);
      expect(error, file).toMatchObject({ name: 'TesseraError', code });
      expect(inputErrorStatus(error)).toBe(status);
    }
    expect(inputErrorStatus(new Error('bug'))).toBeNull();
    captioner.model.dispose();
  });
});

describe('POST /caption on a real HTTP server', () => {
  it('captions an upload in either language, and answers bad uploads with 4xx JSON', async () => {
    const captioner = await loadCaptioner(modelDir);
    const clip = await readFile(firstClip);
    const limit = clip.length + 4096;
    const app = createCaptionRoute(captioner, { maxVideoBytes: limit, maxBeams: 4 });
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/caption`;
    const post = async (fields: Record<string, string | Blob>, name = 'clip.mp4') => {
      const form = new FormData();
      for (const [k, v] of Object.entries(fields)) form.append(k, v, ...(v instanceof Blob ? [name] : []));
      const response = await fetch(url, { method: 'POST', body: form });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    try {
      const en = await post({ video: new Blob([clip]), beam: '2' });
      expect(en.status).toBe(200);
      expect(en.body).toMatchObject({ video: 'clip.mp4', lang: 'en', beams: 2, caption: String(expected[0]?.en).toLowerCase() });
      const zh = await post({ video: new Blob([clip]), lang: 'zh' });
      expect(zh.body).toMatchObject({ lang: 'zh', beams: 1, caption: expected[0]?.zh });

      const audio = path.join(dir, 'upload-tone.m4a');
      execFileSync(FFMPEG, ['-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=0.5', '-c:a', 'aac', audio]);
      const cases: Array<[Record<string, string | Blob>, number, string]> = [
        [{ video: new Blob(['this is not a video']) }, 422, 'E_VIDEO_CORRUPT'],
        [{ video: new Blob([clip.subarray(0, 200)]) }, 422, 'E_VIDEO_CORRUPT'],
        [{ video: new Blob([await readFile(audio)]) }, 415, 'E_VIDEO_NO_STREAM'],
        [{ video: new Blob([]) }, 400, 'bad_request'],
        [{ file: new Blob([clip]) }, 400, 'bad_request'],
        [{ video: new Blob([clip]), lang: 'fr' }, 400, 'bad_request'],
        [{ video: new Blob([clip]), beam: '9' }, 400, 'bad_request'],
        [{ video: new Blob([new Uint8Array(limit + 1)]) }, 413, 'too_large'],
      ];
      for (const [fields, status, error] of cases) {
        const r = await post(fields);
        expect(r.status, JSON.stringify(r.body)).toBe(status);
        expect(r.body.error).toBe(error);
        expect(String(r.body.message)).not.toContain(os.tmpdir()); // no server paths leak
      }
      const json = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(json.status).toBe(400);
      expect(((await json.json()) as { message: string }).message).toContain('multipart/form-data');
    } finally {
      await new Promise((done) => server.close(done));
      captioner.model.dispose();
    }
  });
});

describe('trainCaptioner --resume', () => {
  it('on a finished run trains nothing and succeeds; with more steps it continues from the checkpoint', async () => {
    const config = (steps: number) => ({
      model: { numFrames: 4, imageSize: 32, patchSize: 8, visionDim: 16, visionLayers: 1, textDim: 16, textLayers: 1, maxLength: 16 },
      data: { manifest },
      train: { lr: 1e-3, steps, batchSize: 4, outputDir: path.join(dir, 'resumed') },
    });
    const first = await trainCaptioner(config(2));
    expect([first.result.step, first.result.losses.length]).toEqual([2, 2]);
    // Before: E_TRAIN_DIVERGED "training ended with a non-finite loss", as no step ran.
    const again = await trainCaptioner(config(2), { resume: true });
    expect([again.result.step, again.result.losses.length]).toEqual([2, 0]);
    const more = await trainCaptioner(config(3), { resume: true });
    expect([more.result.step, more.result.losses.length]).toEqual([3, 1]);
  });
});
