import { execFile, spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Runs every program in examples/ as a user would (tsx, package names resolved to the sources)
// on committed fixtures, and checks what it prints against values from elsewhere: transformers'
// ids, features and generated tokens (packages/models/test/fixtures/pretrained), or the loss
// and retrieval a trained model must reach.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EXAMPLES = path.join(ROOT, 'examples');
const PRETRAINED = path.join(ROOT, 'packages/models/test/fixtures/pretrained');
const EMOJI = path.join(ROOT, 'packages/patches/test/fixtures/emoji');
const tsx = import.meta.resolve('tsx');
const run = promisify(execFile);

/** `tsx examples/<name> ...args`; stdout's lines. */
async function example(name: string, args: string[]): Promise<string[]> {
  const { stdout } = await run(process.execPath, ['--import', tsx, '--conditions=development', path.join(EXAMPLES, name), ...args], {
    cwd: ROOT,
    maxBuffer: 1 << 24,
  });
  return stdout.trim().split('\n');
}

interface SearchLine {
  query: string;
  results: { image: string; cosine: number; logit: number }[];
}

const expected = JSON.parse(await readFile(path.join(PRETRAINED, 'expected.json'), 'utf8')) as {
  captions: string[];
  images: string[];
  models: { clip: { input_ids: number[][]; logits_per_image: number[][] } };
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tessera-examples-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('examples/', () => {
  it('every program is under 60 lines', async () => {
    for (const file of (await readdir(EXAMPLES)).filter((f) => f.endsWith('.ts'))) {
      const lines = (await readFile(path.join(EXAMPLES, file), 'utf8')).trimEnd().split('\n').length;
      expect(lines, file).toBeLessThan(60);
    }
  });

  it("tokenizer-only: transformers' CLIP ids for the fixture captions", async () => {
    const out = (await example('tokenizer-only.ts', [path.join(PRETRAINED, 'clip/tokenizer.json'), ...expected.captions])).map((l) =>
      JSON.parse(l),
    );
    expect(out.map((o) => o.text)).toEqual(expected.captions);
    expect(out.map((o) => o.ids)).toEqual(expected.models.clip.input_ids);
    expect(out[0].tokens).toEqual(['<|startoftext|>', 'a</w>', 'photo</w>', 'of</w>', 'a</w>', 'cat</w>', '<|endoftext|>']);
  });

  it('clip-loss-tfjs: the loss of a plain tf.layers model falls far below chance and every pair is retrieved', async () => {
    const out = await example('clip-loss-tfjs.ts', ['30']);
    const losses = out.filter((l) => l.startsWith('step ')).map((l) => Number(l.split(' loss ')[1]));
    expect(losses).toHaveLength(4); // steps 0, 10, 20, 30
    expect(losses[0]).toBeGreaterThan(Math.log(8)); // random towers at scale 1/0.07 are worse than chance
    expect(losses.at(-1)).toBeLessThan(0.1);
    expect(out.at(-1)).toBe('image-to-text top-1: 8/8');
  });

  it("search-images: a Hugging Face CLIP folder scores the images as transformers' logits_per_image", async () => {
    const images = path.join(dir, 'images');
    await mkdir(images);
    for (const f of expected.images) await copyFile(path.join(PRETRAINED, f), path.join(images, f));
    const out = (await example('search-images.ts', [path.join(PRETRAINED, 'clip'), images, ...expected.captions])).map(
      (l) => JSON.parse(l) as SearchLine,
    );
    expect(out.map((o) => o.query)).toEqual(expected.captions);
    out.forEach((line, t) => {
      const want = expected.images.map((image, i) => ({ image, logit: expected.models.clip.logits_per_image[i]?.[t] as number }));
      want.sort((a, b) => b.logit - a.logit);
      expect(line.results.map((r) => r.image)).toEqual(want.map((w) => w.image));
      line.results.forEach((r, k) => {
        expect(r.logit).toBeCloseTo(want[k]?.logit as number, 3);
      });
    });
  });

  it('train-clip: the loss falls on a folder of captioned images, and the trained folder finds each image by its caption', async () => {
    const folder = path.join(dir, 'captioned');
    await mkdir(folder);
    const captions: Record<string, string> = { '1f600': 'a grinning face', '2764-fe0f': 'a red heart', '1f436': 'a dog face' };
    for (const [name, caption] of Object.entries(captions)) {
      await copyFile(path.join(EMOJI, `${name}.png`), path.join(folder, `${name}.png`));
      await writeFile(path.join(folder, `${name}.txt`), `${caption}\n`);
    }
    const out = await example('train-clip.ts', [folder, path.join(dir, 'run'), '60']);
    expect(out[0]).toBe('3 captioned images');
    const [first, last] = (/loss ([\d.]+) -> ([\d.]+) over 60 steps/.exec(out.join('\n')) ?? []).slice(1).map(Number);
    expect(last).toBeLessThan((first as number) / 2);
    expect(last).toBeLessThan(Math.log(3));
    const model = out.at(-1)?.replace('model folder: ', '') as string;
    const found = (await example('search-images.ts', [model, folder, ...Object.values(captions)])).map((l) => JSON.parse(l) as SearchLine);
    expect(found.map((f) => f.results[0]?.image)).toEqual(Object.keys(captions).map((n) => `${n}.png`));
  });

  it("caption-video: a Hugging Face GIT video folder greedy-decodes a lossless clip of the fixture frames to transformers' tokens", async () => {
    const clip = path.join(dir, 'tree.mkv');
    // The 4 frames transformers captioned (make_git.py), as a 4-frame lossless video: sampling 4
    // frames evenly over it gives back exactly those pixels.
    const ffmpeg = spawnSync('ffmpeg', [
      '-v',
      'error',
      '-y',
      '-framerate',
      '2',
      '-start_number',
      '0',
      '-i',
      path.join(PRETRAINED, 'tree-frame-%d.png'),
      '-c:v',
      'ffv1',
      clip,
    ]);
    expect(ffmpeg.status, String(ffmpeg.stderr)).toBe(0);
    const want = JSON.parse(await readFile(path.join(PRETRAINED, 'git_expected.json'), 'utf8')).git_video.greedy[0] as number[];
    const [line] = await example('caption-video.ts', [path.join(PRETRAINED, 'git-video'), clip]);
    const out = JSON.parse(line as string) as { video: string; caption: string; tokens: number[] };
    expect(out.tokens).toEqual(want.slice(0, want.indexOf(3))); // up to [SEP], GIT's end of text
    expect(out.caption.length).toBeGreaterThan(0);
  });
});
