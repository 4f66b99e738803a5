import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { initBackend } from '@tessera/core';
import { type LoadedCaptioner, loadCaptioner } from '@tessera/models';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createCaptionRoute } from './captionRoute.js';
import { captionVideo } from './captionVideo.js';
import { createCaptionCommand } from './commands.js';

const FIXTURES = path.resolve(import.meta.dirname, '../../../packages/models/test/fixtures/pretrained');
const BLIP = path.join(FIXTURES, 'blip');
/** OpenCV's tree.avi (2 s, 4 pictures), committed for @tessera/patches. */
const TREE = path.resolve(import.meta.dirname, '../../../packages/patches/test/fixtures/tree_2s.avi');
const PHOTO = path.join(FIXTURES, 'checker.png');
/** transformers 5.18's outputs for the BLIP fixture, written by make_blip.py. */
const want = JSON.parse(readFileSync(path.join(FIXTURES, 'blip_expected.json'), 'utf8')).models.blip;
const withoutSep = (ids: number[]) => (ids[ids.length - 1] === want.sep_token_id ? ids.slice(0, -1) : ids);

describe('a Hugging Face BLIP folder as the captioner (one frame: the middle one of a video)', () => {
  let captioner: LoadedCaptioner;
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
    captioner = await loadCaptioner(BLIP);
  });
  afterAll(() => captioner.model.dispose());

  it("captions a real clip from its middle frame: transformers' greedy and beam-3 ids on that frame", async () => {
    const greedy = await captionVideo(captioner, TREE);
    expect(greedy.tokens).toEqual(withoutSep(want.tree.greedy_ids[0]));
    expect(greedy.caption).toBe(captioner.text.decode(greedy.tokens));
    const beam = await captionVideo(captioner, TREE, { beams: 3 });
    expect(beam.tokens).toEqual(withoutSep(want.tree.beam3_ids[0]));
  });

  it("`tessera caption photo.png --checkpoint <blip folder>` prints transformers' caption of the still image", async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      await createCaptionCommand().parseAsync(['node', 'caption', PHOTO, '--checkpoint', BLIP, '--beam', '1', '--json'], { from: 'node' });
      const printed = JSON.parse(String(log.mock.calls[0]?.[0]));
      // checker.png is the second image of the fixture.
      expect(printed).toMatchObject({ video: PHOTO, lang: 'en', beams: 1, tokens: withoutSep(want.default_greedy_ids[1]) });
      expect(printed.caption).toBe(captioner.text.decode(printed.tokens));
    } finally {
      log.mockRestore();
    }
  });

  it('POST /caption takes the folder too; a language the checkpoint does not write is a 400', async () => {
    const app = createCaptionRoute(captioner);
    const post = async (fields: Record<string, string>) => {
      const form = new FormData();
      form.append('video', new Blob([await readFile(TREE)]), 'tree.avi');
      for (const [k, v] of Object.entries(fields)) form.append(k, v);
      const response = await app.request('/caption', { method: 'POST', body: form });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const ok = await post({});
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ video: 'tree.avi', lang: 'en', tokens: withoutSep(want.tree.greedy_ids[0]) });
    const zh = await post({ lang: 'zh' });
    expect(zh.status).toBe(400);
    expect(zh.body).toMatchObject({ error: 'E_INPUT' });
  });
});
