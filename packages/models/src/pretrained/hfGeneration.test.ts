import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hfDefaultNewTokens } from './hfGeneration.js';

describe("transformers' default caption length for a folder", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'hf-generation-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));
  const write = (json: unknown) => writeFile(path.join(dir, 'generation_config.json'), JSON.stringify(json));

  it('no generation_config.json, or one without a length: 20 new tokens, the prompt and them within the positions', async () => {
    expect(await hfDefaultNewTokens(dir, 1, 512)).toBe(20);
    expect(await hfDefaultNewTokens(dir, 1, 12)).toBe(11);
    await write({ bos_token_id: 2 });
    expect(await hfDefaultNewTokens(dir, 1, 512)).toBe(20);
  });

  it('max_length counts the prompt; max_new_tokens wins over it', async () => {
    await write({ max_length: 20 });
    expect(await hfDefaultNewTokens(dir, 1, 512)).toBe(19);
    await write({ max_length: 30, max_new_tokens: 7 });
    expect(await hfDefaultNewTokens(dir, 1, 512)).toBe(7);
    await write({ max_length: 'long' });
    await expect(hfDefaultNewTokens(dir, 1, 512)).rejects.toMatchObject({ code: 'E_PRETRAINED_CONFIG', message: /max_length/ });
  });
});
