import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseConfig, SeededRandom, TesseraError, writeFileAtomic } from '@tessera/core';
import { type Caption, type ManifestRow, writeManifest } from '@tessera/data';
import { type EmojiConcept, emojiImagePath, loadEmojiConcepts, NOTO_LICENSE_FILE } from '@tessera/dataset-emoji';
import { findFfmpeg, runFfmpeg } from '@tessera/patches';
import { z } from 'zod';
import { decodePng, type RgbaImage } from './png.js';

/**
 * Captioned video clips for the video-captioning app: one or two emoji (Noto images)
 * moving on a white canvas, rendered here and encoded as H.264 mp4 by ffmpeg, with
 * captions in English and Chinese. The test split holds out (emoji, motion) pairings:
 * every emoji and every motion is seen in training, but some pairings only in test.
 */
const BUILDER_VERSION = 1;

export const MOTIONS = [
  'up',
  'down',
  'left',
  'right',
  'up-left',
  'up-right',
  'down-left',
  'down-right',
  'grow',
  'shrink',
  'rotate',
  'appear',
  'stay',
] as const;
export type Motion = (typeof MOTIONS)[number];

/** Two English phrasings and one Chinese phrase per motion. */
const PHRASES: Record<Motion, { en: [string, string]; zh: string }> = {
  up: { en: ['moves up', 'goes up'], zh: '向上移动' },
  down: { en: ['moves down', 'goes down'], zh: '向下移动' },
  left: { en: ['moves to the left', 'goes left'], zh: '向左移动' },
  right: { en: ['moves to the right', 'goes right'], zh: '向右移动' },
  'up-left': { en: ['moves up and to the left', 'goes up and left'], zh: '向左上方移动' },
  'up-right': { en: ['moves up and to the right', 'goes up and right'], zh: '向右上方移动' },
  'down-left': { en: ['moves down and to the left', 'goes down and left'], zh: '向左下方移动' },
  'down-right': { en: ['moves down and to the right', 'goes down and right'], zh: '向右下方移动' },
  grow: { en: ['grows', 'gets bigger'], zh: '变大' },
  shrink: { en: ['shrinks', 'gets smaller'], zh: '变小' },
  rotate: { en: ['rotates', 'spins around'], zh: '旋转' },
  appear: { en: ['appears', 'fades in'], zh: '出现' },
  stay: { en: ['stays still', 'does not move'], zh: '保持不动' },
};

const DIRECTIONS: Partial<Record<Motion, [number, number]>> = {
  up: [0, -1],
  down: [0, 1],
  left: [-1, 0],
  right: [1, 0],
  'up-left': [-1, -1],
  'up-right': [1, -1],
  'down-left': [-1, 1],
  'down-right': [1, 1],
};

export const movingEmojiOptionsSchema = z
  .object({
    outDir: z.string().min(1),
    clips: z.number().int().positive().default(1000),
    seed: z.number().int().default(0),
    /** Emoji concepts drawn from (a seeded choice; flags, keycaps and components left out). */
    concepts: z.number().int().min(2).default(100),
    /** Canvas side in pixels (even, for H.264 4:2:0). */
    size: z
      .number()
      .int()
      .min(16)
      .refine((v) => v % 2 === 0, 'must be even')
      .default(64),
    /** Emoji side in pixels at scale 1. */
    emojiSize: z.number().int().min(4).default(24),
    frames: z.number().int().min(2).default(16),
    fps: z.number().int().positive().default(8),
    /** Share of clips with two emoji. */
    twoObjectFraction: z.number().min(0).max(1).default(0.5),
    /** Share of clips in the test split (each holds an unseen emoji-motion pairing). */
    testFraction: z.number().min(0).max(0.9).default(0.2),
    /** ffmpeg to encode with; by default @tessera/patches' `findFfmpeg` (TESSERA_FFMPEG, PATH, @ffmpeg-installer/ffmpeg). */
    ffmpegPath: z.string().min(1).optional(),
    /** ffmpeg processes run at once. */
    concurrency: z.number().int().positive().default(2),
    force: z.boolean().default(false),
    onProgress: z.custom<(done: number, total: number) => void>((v) => typeof v === 'function').optional(),
  })
  .strict()
  .refine((o) => o.emojiSize * 1.5 < o.size, {
    message: 'emojiSize must be under two thirds of size, so emoji can move',
    path: ['emojiSize'],
  });
export type MovingEmojiOptions = z.input<typeof movingEmojiOptionsSchema>;

/** One emoji in a clip: what it is, how it moves, and where its centre starts (pixels). */
export interface ClipObject {
  concept: string;
  image: string;
  label: { en: string; zh: string };
  motion: Motion;
  start: [number, number];
}

export interface ClipSpec {
  index: number;
  split: 'train' | 'test';
  objects: ClipObject[];
  captions: Caption[];
}

export interface MovingEmojiResult {
  outDir: string;
  reused: boolean;
  /** Clips encoded in this run (clips of an interrupted identical run are kept). */
  encoded: number;
  manifests: { train: string; test: string; all: string };
  counts: { train: number; test: number };
}

/** Travel of a moving emoji over the clip: 45 % of the free space. */
function travel(size: number, emojiSize: number): number {
  return Math.round(0.45 * (size - emojiSize));
}

/** Centre, scale, rotation (radians, clockwise on screen) and opacity at clip time u in [0, 1]. */
export function objectState(object: ClipObject, u: number, size: number, emojiSize: number) {
  const dir = DIRECTIONS[object.motion];
  const d = travel(size, emojiSize);
  const cx = object.start[0] + (dir ? dir[0] * d * u : 0);
  const cy = object.start[1] + (dir ? dir[1] * d * u : 0);
  const scale = object.motion === 'grow' ? 0.5 + 0.5 * u : object.motion === 'shrink' ? 1 - 0.5 * u : 1;
  const angle = object.motion === 'rotate' ? 2 * Math.PI * u : 0;
  const alpha = object.motion === 'appear' ? Math.min(1, Math.max(0, (u - 0.25) / 0.25)) : 1;
  return { cx, cy, scale, angle, alpha };
}

function startRange(motion: Motion, size: number, emojiSize: number): [[number, number], [number, number]] {
  const dir = DIRECTIONS[motion] ?? [0, 0];
  const d = travel(size, emojiSize);
  const half = emojiSize / 2;
  const axis = (k: number): [number, number] => [half + Math.max(0, -k * d), size - half - Math.max(0, k * d)];
  return [axis(dir[0]), axis(dir[1])];
}

function article(label: string): string {
  return /^[aeiou]/i.test(label) ? `an ${label}` : `a ${label}`;
}

/** English and Chinese captions: `a dog face moves to the left while a red heart moves up` / `狗脸向左移动，同时红心向上移动`. */
export function clipCaptions(objects: readonly ClipObject[]): Caption[] {
  const [a, b] = objects as [ClipObject, ClipObject | undefined];
  const pa = PHRASES[a.motion];
  if (!b) {
    return [
      { text: `${article(a.label.en)} ${pa.en[0]}`, lang: 'en' },
      { text: `the ${a.label.en} ${pa.en[1]}`, lang: 'en' },
      { text: `${a.label.zh}${pa.zh}`, lang: 'zh' },
    ];
  }
  const pb = PHRASES[b.motion];
  return [
    { text: `${article(a.label.en)} ${pa.en[0]} while ${article(b.label.en)} ${pb.en[0]}`, lang: 'en' },
    { text: `${article(b.label.en)} ${pb.en[1]} while ${article(a.label.en)} ${pa.en[1]}`, lang: 'en' },
    { text: `the ${a.label.en} ${pa.en[0]} and the ${b.label.en} ${pb.en[0]}`, lang: 'en' },
    { text: `${a.label.zh}${pa.zh}，同时${b.label.zh}${pb.zh}`, lang: 'zh' },
    { text: `${b.label.zh}${pb.zh}，${a.label.zh}${pa.zh}`, lang: 'zh' },
  ];
}

/** Emoji that read well as objects in a sentence: no flags, keycaps, components or `x: y` labels. */
export function videoConcepts(all: readonly EmojiConcept[], count: number, seed: number): EmojiConcept[] {
  const usable = all.filter((c) => c.category !== 'Flags' && c.category !== 'Component' && !c.label.en.includes(':'));
  const order = new SeededRandom(seed).fork('video-concepts').permutation(usable.length);
  return order.slice(0, Math.min(count, usable.length)).map((i) => usable[i] as EmojiConcept);
}

/**
 * Plans every clip (objects, motions, start points, captions, split) from the seed alone.
 * Each concept gets one held-out motion (spread so every motion stays in training with
 * other emoji); test clips show a held-out pairing first, training clips never do.
 */
export function planMovingEmojiClips(concepts: readonly EmojiConcept[], options: MovingEmojiOptions): ClipSpec[] {
  const o = parseConfig(movingEmojiOptionsSchema, options, 'moving-emoji options');
  const rng = new SeededRandom(o.seed).fork('clips');
  const perm = new SeededRandom(o.seed).fork('held-out').permutation(concepts.length);
  const held = perm.map((p) => MOTIONS[p % MOTIONS.length] as Motion);
  const seenMotion = (c: number) => {
    const m = MOTIONS[rng.int(MOTIONS.length - 1)] as Motion;
    return m === held[c] ? (MOTIONS[MOTIONS.length - 1] as Motion) : m;
  };
  const place = (c: number, motion: Motion): ClipObject => {
    const [[x0, x1], [y0, y1]] = startRange(motion, o.size, o.emojiSize);
    const concept = concepts[c] as EmojiConcept;
    return { concept: concept.hex, image: concept.image, label: concept.label, motion, start: [rng.uniform(x0, x1), rng.uniform(y0, y1)] };
  };
  const minDistance = (a: ClipObject, b: ClipObject) => {
    let min = Number.POSITIVE_INFINITY;
    for (let f = 0; f < o.frames; f++) {
      const u = f / (o.frames - 1);
      const sa = objectState(a, u, o.size, o.emojiSize);
      const sb = objectState(b, u, o.size, o.emojiSize);
      min = Math.min(min, Math.hypot(sa.cx - sb.cx, sa.cy - sb.cy));
    }
    return min;
  };
  const clips: ClipSpec[] = [];
  for (let index = 0; index < o.clips; index++) {
    const split = rng.next() < o.testFraction ? 'test' : 'train';
    const two = rng.next() < o.twoObjectFraction;
    const c0 = rng.int(concepts.length);
    const first = place(c0, split === 'test' ? (held[c0] as Motion) : seenMotion(c0));
    const objects = [first];
    if (two) {
      let c1 = rng.int(concepts.length - 1);
      if (c1 >= c0) c1++;
      const motion = seenMotion(c1);
      // Keep the two apart where the canvas allows, so both stay visible.
      let second = place(c1, motion);
      for (let tries = 0; tries < 20 && minDistance(first, second) < 0.8 * o.emojiSize; tries++) second = place(c1, motion);
      objects.push(second);
    }
    clips.push({ index, split, objects, captions: clipCaptions(objects) });
  }
  return clips;
}

/** Renders a clip as rgb24 frames: emoji composited over white with 3x3 supersampling. */
export function renderClip(
  spec: ClipSpec,
  sprites: ReadonlyMap<string, RgbaImage>,
  options: { size: number; emojiSize: number; frames: number },
): Uint8Array[] {
  const { size, emojiSize, frames } = options;
  const SS = 3;
  const out: Uint8Array[] = [];
  const canvas = new Float32Array(size * size * 3);
  for (let f = 0; f < frames; f++) {
    canvas.fill(255);
    const u = frames === 1 ? 0 : f / (frames - 1);
    for (const object of spec.objects) {
      const sprite = sprites.get(object.image);
      if (!sprite) throw new TesseraError('E_INPUT', `No sprite for ${object.image}`);
      const st = objectState(object, u, size, emojiSize);
      if (st.alpha <= 0) continue;
      const side = emojiSize * st.scale;
      const cos = Math.cos(st.angle);
      const sin = Math.sin(st.angle);
      const r = side * Math.SQRT1_2 + 1;
      const xa = Math.max(0, Math.floor(st.cx - r));
      const xb = Math.min(size - 1, Math.ceil(st.cx + r));
      const ya = Math.max(0, Math.floor(st.cy - r));
      const yb = Math.min(size - 1, Math.ceil(st.cy + r));
      for (let y = ya; y <= yb; y++) {
        for (let x = xa; x <= xb; x++) {
          let pr = 0;
          let pg = 0;
          let pb = 0;
          let pa = 0;
          for (let sy = 0; sy < SS; sy++) {
            for (let sx = 0; sx < SS; sx++) {
              const dx = x + (sx + 0.5) / SS - st.cx;
              const dy = y + (sy + 0.5) / SS - st.cy;
              // Undo the clockwise rotation, then map the square [-side/2, side/2] onto the sprite.
              const qx = cos * dx + sin * dy;
              const qy = -sin * dx + cos * dy;
              const tx = Math.floor((qx / side + 0.5) * sprite.width);
              const ty = Math.floor((qy / side + 0.5) * sprite.height);
              if (tx < 0 || ty < 0 || tx >= sprite.width || ty >= sprite.height) continue;
              const k = (ty * sprite.width + tx) * 4;
              const a = (sprite.data[k + 3] as number) / 255;
              pr += (sprite.data[k] as number) * a;
              pg += (sprite.data[k + 1] as number) * a;
              pb += (sprite.data[k + 2] as number) * a;
              pa += a;
            }
          }
          if (pa === 0) continue;
          const n = SS * SS;
          const cover = (pa / n) * st.alpha;
          const o = (y * size + x) * 3;
          canvas[o] = (canvas[o] as number) * (1 - cover) + (pr / n) * st.alpha;
          canvas[o + 1] = (canvas[o + 1] as number) * (1 - cover) + (pg / n) * st.alpha;
          canvas[o + 2] = (canvas[o + 2] as number) * (1 - cover) + (pb / n) * st.alpha;
        }
      }
    }
    const frame = new Uint8Array(size * size * 3);
    for (let i = 0; i < frame.length; i++) frame[i] = Math.round(canvas[i] as number);
    out.push(frame);
  }
  return out;
}

/**
 * Encodes rgb24 frames as H.264 mp4 (yuv420p) with the ffmpeg @tessera/patches finds (or
 * `ffmpegPath`); temp file then rename. No ffmpeg is `E_FFMPEG_UNAVAILABLE`, a failed encode `E_FFMPEG`.
 */
export async function encodeMp4(
  frames: readonly Uint8Array[],
  file: string,
  options: { size: number; fps: number; ffmpegPath?: string },
): Promise<void> {
  const temp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const args = [
    '-v',
    'error',
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    '-s',
    `${options.size}x${options.size}`,
    '-r',
    String(options.fps),
    '-i',
    'pipe:0',
  ];
  args.push('-c:v', 'libx264', '-preset', 'veryfast', '-crf', '18', '-pix_fmt', 'yuv420p', '-threads', '1', '-g', String(frames.length));
  args.push('-map_metadata', '-1', '-fflags', '+bitexact', '-flags:v', '+bitexact', '-f', 'mp4', '-y', temp);
  try {
    const { code, stderr } = await runFfmpeg(args, { ffmpegPath: options.ffmpegPath, source: file, input: frames });
    if (code !== 0) {
      throw new TesseraError('E_FFMPEG', `ffmpeg failed (exit ${code}) writing ${file}: ${stderr.trim()}`, {
        details: { ffmpeg: options.ffmpegPath ?? findFfmpeg(), code },
      });
    }
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await rename(temp, file);
}

/**
 * Builds the moving-emoji video set in `outDir`: `clips/000000.mp4 ...`, `train.jsonl`,
 * `test.jsonl`, `manifest.jsonl` (rows: `video`, `captions`, `split`, `objects`),
 * `ATTRIBUTION.md`, `LICENSES/` and `dataset.json` (written last; reruns are free).
 */
export async function buildMovingEmojiDataset(options: MovingEmojiOptions): Promise<MovingEmojiResult> {
  const o = parseConfig(movingEmojiOptionsSchema, options, 'moving-emoji options');
  const outDir = path.resolve(o.outDir);
  const { groups, versions } = await loadEmojiConcepts();
  const { outDir: _o, force: _f, onProgress: _p, ffmpegPath: _ff, concurrency: _c, ...recipe } = o;
  const fingerprint = JSON.stringify({ builder: BUILDER_VERSION, versions, recipe });
  const manifests = {
    train: path.join(outDir, 'train.jsonl'),
    test: path.join(outDir, 'test.jsonl'),
    all: path.join(outDir, 'manifest.jsonl'),
  };
  const infoPath = path.join(outDir, 'dataset.json');
  const recipePath = path.join(outDir, 'recipe.json');
  let resumable = false;
  if (!o.force) {
    try {
      const info = JSON.parse(await readFile(infoPath, 'utf8'));
      if (info.fingerprint === fingerprint) {
        await Promise.all(Object.values(manifests).map((f) => stat(f)));
        return { outDir, reused: true, encoded: 0, manifests, counts: info.counts };
      }
    } catch {
      // Not built with this recipe.
    }
    resumable = await readFile(recipePath, 'utf8').then(
      (text) => text === fingerprint,
      () => false,
    );
  }
  await rm(infoPath, { force: true });
  await writeFileAtomic(recipePath, fingerprint);

  const concepts = videoConcepts(
    groups.map((g) => g.members[0] as EmojiConcept),
    o.concepts,
    o.seed,
  );
  const clips = planMovingEmojiClips(concepts, options);
  const sprites = new Map<string, RgbaImage>();
  for (const c of concepts) sprites.set(c.image, decodePng(new Uint8Array(await readFile(emojiImagePath('google', c.image)))));
  await mkdir(path.join(outDir, 'clips'), { recursive: true });

  let next = 0;
  let done = 0;
  let encoded = 0;
  const name = (i: number) => `clips/${String(i).padStart(6, '0')}.mp4`;
  const worker = async () => {
    while (next < clips.length) {
      const spec = clips[next++] as ClipSpec;
      const file = path.join(outDir, name(spec.index));
      const exists =
        resumable &&
        (await stat(file).then(
          () => true,
          () => false,
        ));
      if (!exists) {
        await encodeMp4(renderClip(spec, sprites, o), file, { size: o.size, fps: o.fps, ffmpegPath: o.ffmpegPath });
        encoded++;
      }
      o.onProgress?.(++done, clips.length);
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));

  const rows = clips.map(
    (c): ManifestRow => ({
      video: name(c.index),
      captions: c.captions,
      split: c.split,
      objects: c.objects.map((x) => ({ concept: x.concept, label: x.label, motion: x.motion })),
      frames: o.frames,
      fps: o.fps,
      size: o.size,
    }),
  );
  const train = rows.filter((r) => r.split === 'train');
  const test = rows.filter((r) => r.split === 'test');
  await writeManifest(manifests.train, train);
  await writeManifest(manifests.test, test);
  await writeManifest(manifests.all, rows);
  await writeFileAtomic(path.join(outDir, 'LICENSES', 'Apache-2.0.txt'), await readFile(NOTO_LICENSE_FILE));
  await writeFileAtomic(
    path.join(outDir, 'ATTRIBUTION.md'),
    `# Attribution and licences

Clips rendered by \`tessera data moving-emoji\` (@tessera/dataset-moving-emoji) from emoji images of Google Noto Emoji
(npm \`emoji-datasource-google@${versions['emoji-datasource-google']}\`, https://github.com/googlefonts/noto-emoji),
Copyright Google LLC, licensed under the Apache License, Version 2.0 (\`LICENSES/Apache-2.0.txt\`).
The images were scaled, rotated, faded and composited onto a white canvas.
Emoji names in captions come from emojibase-data@${versions['emojibase-data']} (MIT, Copyright (c) 2017-2019 Miles Johnson).
`,
  );
  const counts = { train: train.length, test: test.length };
  await writeFileAtomic(
    infoPath,
    `${JSON.stringify({ name: 'tessera-moving-emoji', fingerprint, counts, concepts: concepts.map((c) => c.hex) }, null, 2)}\n`,
  );
  await rm(recipePath, { force: true });
  return { outDir, reused: false, encoded, manifests, counts };
}
