import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { serve } from '@hono/node-server';
import { initBackend } from '@tessera/core';
import { loadCaptioner } from '@tessera/models';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createCaptionRoute } from './captionRoute.js';
import { captionVideo } from './captionVideo.js';
import { createCaptionCommand } from './commands.js';

// Tiny GitForCausalLM folders and transformers' outputs on frames of tree.avi (make_git.py).
const FIXTURES = path.resolve(import.meta.dirname, '../../../packages/models/test/fixtures/pretrained');
const GIT = path.join(FIXTURES, 'git');
const GIT_VIDEO = path.join(FIXTURES, 'git-video');
const PHOTO = path.join(FIXTURES, 'tree-frame-0.png');
const TREE = path.resolve(import.meta.dirname, '../../../packages/patches/test/fixtures/tree_2s.avi');
const want = JSON.parse(await readFile(path.join(FIXTURES, 'git_expected.json'), 'utf8')) as {
  max_new_tokens: number;
  git: { greedy: number[][]; beam3: number[][] };
};
const SEP = 3;
const untilEos = (r: number[]) => (r.includes(SEP) ? r.slice(0, r.indexOf(SEP)) : r);

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

describe('captioning with a Hugging Face GIT folder', () => {
  it("captions a photo with transformers' greedy and beam-3 ids, decoded by the checkpoint's tokenizer", async () => {
    const captioner = await loadCaptioner(GIT);
    const greedy = await captionVideo(captioner, PHOTO, { beams: 1, maxNewTokens: want.max_new_tokens });
    expect(greedy.tokens).toEqual(untilEos(want.git.greedy[0] as number[]));
    expect(greedy.caption).toBe(captioner.text.decode(greedy.tokens));
    expect(greedy.caption).not.toMatch(/\[(CLS|SEP|PAD)\]/);
    const beam = await captionVideo(captioner, PHOTO, { beams: 3, maxNewTokens: want.max_new_tokens });
    expect(beam.tokens).toEqual(untilEos(want.git.beam3[0] as number[]));
    await expect(captionVideo(captioner, PHOTO, { lang: 'zh' })).rejects.toMatchObject({ code: 'E_INPUT' });
    captioner.model.dispose();
  });

  it('captions a real clip with the video checkpoint (4 frames evenly over it) from `tessera caption`', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      await createCaptionCommand().parseAsync(['node', 'caption', TREE, '--checkpoint', GIT_VIDEO, '--beam', '2', '--json'], {
        from: 'node',
      });
      const printed = JSON.parse(String(log.mock.calls[0]?.[0]));
      expect(printed).toMatchObject({ video: TREE, lang: 'en', beams: 2 });
      expect(printed.tokens.length).toBeGreaterThan(0);
      const captioner = await loadCaptioner(GIT_VIDEO);
      expect(printed.caption).toBe(captioner.text.decode(printed.tokens));
      captioner.model.dispose();
    } finally {
      log.mockRestore();
    }
  });

  it('answers POST /caption for an uploaded photo with the same caption', async () => {
    const captioner = await loadCaptioner(GIT);
    const app = createCaptionRoute(captioner);
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
    });
    try {
      const form = new FormData();
      form.append('video', new Blob([await readFile(PHOTO)]), 'tree.png');
      const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/caption`, { method: 'POST', body: form });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { tokens: number[]; caption: string };
      expect(body.tokens).toEqual(untilEos(want.git.greedy[0] as number[]));
      expect(body.caption).toBe(captioner.text.decode(body.tokens));
    } finally {
      await new Promise((resolve) => server.close(resolve));
      captioner.model.dispose();
    }
  });
});
