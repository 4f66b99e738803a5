import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { initBackend, tf } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, maxDiff } from '../../test/pretrained.js';
import type { LoadedCaptioner } from '../captionModel.js';
import { GitCaptioner } from '../gitCaptioner.js';
import { loadCaptioner } from '../modelDirectory.js';
import { gitFromHfName, gitToHfName } from './git.js';
import { listHfWeights } from './hfWeights.js';
import { savePretrainedCaptioner } from './savePretrainedCaptioner.js';

/** Written by make_git.py (transformers 5.18, torch 2.13) beside the fixtures. */
interface GitExpected {
  frames: string[];
  max_new_tokens: number;
  pixel_values: number[][][][];
  git: ModelExpected;
  git_video: ModelExpected;
}
interface ModelExpected {
  frames: number[];
  teacher_forced: Array<{ caption: string; input_ids: number[]; logits: number[][] }>;
  greedy: number[][];
  beam3: number[][];
}
const want = JSON.parse(await readFile(path.join(FIXTURES, 'git_expected.json'), 'utf8')) as GitExpected;

/** The frames through the folder's processor: [4, 3, H, W] values. */
async function framePixels(loaded: LoadedCaptioner): Promise<Float32Array[]> {
  return Promise.all(want.frames.map(async (f) => (await loaded.processor.preprocess(path.join(FIXTURES, f))).data as Float32Array));
}

/** Pixels [B, T, 3, H, W]: `clips` lists the frame indices of each clip. */
function clipPixels(frames: Float32Array[], clips: number[][], size: number): tf.Tensor {
  const per = 3 * size * size;
  const data = new Float32Array(clips.length * (clips[0]?.length ?? 0) * per);
  clips.flat().forEach((f, i) => {
    data.set(frames[f] as Float32Array, i * per);
  });
  return tf.tensor(data, [clips.length, clips[0]?.length ?? 0, 3, size, size]);
}

/** transformers pads finished rows after [SEP]; Tessera returns each row up to its EOS. */
function untilEos(rows: number[][], eos: number): number[][] {
  return rows.map((r) => (r.includes(eos) ? r.slice(0, r.indexOf(eos)) : r));
}

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

describe.each([
  ['git', 'git', [[0], [2]]],
  ['git-video', 'git_video', [[0, 1, 2, 3]]],
] as const)('GitForCausalLM folder %s against transformers', (folder, key, clips) => {
  const expected = want[key];
  let loaded: LoadedCaptioner;
  let frames: Float32Array[];
  beforeAll(async () => {
    loaded = await loadCaptioner(path.join(FIXTURES, folder));
    frames = await framePixels(loaded);
  });

  it('loads as a GIT captioner reading the frames its config says', () => {
    expect(loaded.kind).toBe('git');
    expect(loaded.model).toBeInstanceOf(GitCaptioner);
    expect(loaded.model.numFrames).toBe(clips[0].length);
    expect(loaded.model.specialIds).toEqual({ bos: 2, eos: 3, pad: 0 });
  });

  it('preprocesses the frames of the real clip to the same pixel values within 1e-5', () => {
    const got = frames.map((f) => Array.from(f));
    const ref = want.pixel_values.map((f) => f.flat(2));
    expect(maxDiff(got, ref)).toBeLessThan(1e-5);
  });

  it('tokenizes the captions as transformers and gives the text logits at every position within 1e-4', () => {
    const model = loaded.model;
    for (const row of expected.teacher_forced) {
      expect(loaded.text.encode(row.caption, 'en', 32)).toEqual(row.input_ids);
      const got = tf.tidy(() => {
        const pixels = clipPixels(frames, [clips[0] as unknown as number[]], model.imageSize);
        const ids = tf.tensor2d([row.input_ids], [1, row.input_ids.length], 'int32');
        return (model.logits(pixels, ids).arraySync() as number[][][])[0] as number[][];
      });
      expect(maxDiff(got, row.logits)).toBeLessThan(1e-4);
    }
  });

  it("generates transformers' greedy and beam-3 ids exactly, with the KV cache", () => {
    const model = loaded.model;
    const pixels = clipPixels(frames, clips as unknown as number[][], model.imageSize);
    const settings = { maxNewTokens: want.max_new_tokens, minNewTokens: 0 };
    const greedy = model.generate(pixels, settings);
    const beam = model.generate(pixels, { ...settings, beams: 3 });
    pixels.dispose();
    expect(greedy).toEqual(untilEos(expected.greedy, 3));
    expect(beam).toEqual(untilEos(expected.beam3, 3));
    expect(greedy.map((ids) => loaded.text.decode(ids)).every((t) => t.length > 0)).toBe(true);
  });
});

describe('savePretrainedCaptioner', () => {
  it("writes a GIT folder with transformers' tensor names that reloads to transformers' logits", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tessera-git-save-'));
    try {
      for (const [folder, key] of [
        ['git', 'git'],
        ['git-video', 'git_video'],
      ] as const) {
        const source = await loadCaptioner(path.join(FIXTURES, folder));
        const out = path.join(dir, folder);
        await savePretrainedCaptioner(out, source.model, source.dir);
        source.model.dispose();
        // The tensors save_pretrained wrote (a tied head's output.weight is left out, as transformers does).
        const written = await listHfWeights(out);
        const original = await listHfWeights(path.join(FIXTURES, folder));
        expect([...written.keys()].sort()).toEqual([...original.keys()].sort());
        for (const [name, entry] of original) expect(written.get(name)?.shape).toEqual(entry.shape);
        const config = JSON.parse(await readFile(path.join(out, 'config.json'), 'utf8'));
        expect(config).toMatchObject({ model_type: 'git', dtype: 'float32' });
        const reloaded = await loadCaptioner(out);
        const frames = await framePixels(reloaded);
        const clip = key === 'git' ? [0] : [0, 1, 2, 3];
        for (const row of want[key].teacher_forced) {
          expect(reloaded.text.encode(row.caption, 'en', 32)).toEqual(row.input_ids);
          const got = tf.tidy(() => {
            const pixels = clipPixels(frames, [clip], reloaded.model.imageSize);
            const ids = tf.tensor2d([row.input_ids], [1, row.input_ids.length], 'int32');
            return (reloaded.model.logits(pixels, ids).arraySync() as number[][][])[0] as number[][];
          });
          expect(maxDiff(got, row.logits)).toBeLessThan(1e-4);
        }
        reloaded.model.dispose();
      }
      const source = await loadCaptioner(path.join(FIXTURES, 'git'));
      await expect(savePretrainedCaptioner(source.dir, source.model, source.dir)).rejects.toMatchObject({ code: 'E_INPUT' });
      source.model.dispose();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('GIT tensor names', () => {
  it('map both ways onto every tensor of the folders', async () => {
    for (const folder of ['git', 'git-video']) {
      for (const hf of (await listHfWeights(path.join(FIXTURES, folder))).keys()) expect(gitToHfName(gitFromHfName(hf))).toBe(hf);
    }
  });
});

describe('GIT folder errors', () => {
  it('name the file and field: an unknown model_type, tensors that do not fit config.json', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tessera-git-'));
    try {
      const folder = path.join(dir, 'git');
      await cp(path.join(FIXTURES, 'git'), folder, { recursive: true });
      const config = JSON.parse(await readFile(path.join(folder, 'config.json'), 'utf8'));
      await writeFile(path.join(folder, 'config.json'), JSON.stringify({ ...config, model_type: 'opt' }));
      await expect(loadCaptioner(folder)).rejects.toMatchObject({
        code: 'E_PRETRAINED_CONFIG',
        message: expect.stringMatching(/config\.json: model_type "opt" .*supported: git/),
      });
      await writeFile(
        path.join(folder, 'config.json'),
        JSON.stringify({ ...config, num_hidden_layers: 3, hidden_size: 40, num_attention_heads: 4 }),
      );
      const error = await loadCaptioner(folder).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'E_PRETRAINED_WEIGHTS', message: expect.stringContaining('model.safetensors') });
      const details = (error as { details: { missing: string[]; misshaped: string[] } }).details;
      expect(details.missing).toContain('git.encoder.layer.2.attention.self.query.weight');
      expect(details.misshaped.some((m) => m.startsWith('git.embeddings.word_embeddings.weight'))).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
