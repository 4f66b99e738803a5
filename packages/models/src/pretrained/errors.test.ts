import { cp, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { initBackend, loadSafetensors, saveSafetensors } from '@tessera/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES } from '../../test/pretrained.js';
import { loadModel } from '../modelDirectory.js';
import { loadPretrained } from './loadPretrained.js';

let work: string;
beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  work = await mkdtemp(path.join(tmpdir(), 'tessera-pretrained-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** A writable copy of a fixture folder. */
async function copy(name: string, as: string): Promise<string> {
  const dir = path.join(work, as);
  await cp(path.join(FIXTURES, name), dir, { recursive: true });
  return dir;
}

/** Rewrites the copy's model.safetensors through `edit`. */
async function editWeights(dir: string, edit: (t: Map<string, unknown>) => void): Promise<void> {
  const file = path.join(dir, 'model.safetensors');
  const { tensors } = await loadSafetensors(file);
  edit(tensors as Map<string, unknown>);
  await saveSafetensors(file, tensors);
}

describe('errors name the file and the field', () => {
  it('lists a missing, an unexpected and a wrongly shaped tensor in one E_PRETRAINED_WEIGHTS', async () => {
    const dir = await copy('clip', 'bad-weights');
    await editWeights(dir, (t) => {
      t.delete('visual_projection.weight');
      t.set('extra.weight', t.get('text_projection.weight'));
      t.set('logit_scale', { dtype: 'F32', shape: [2], data: new Float32Array(2) });
    });
    const error = await loadPretrained(dir).catch((e) => e);
    expect(error).toMatchObject({
      code: 'E_PRETRAINED_WEIGHTS',
      details: { missing: ['visual_projection.weight'], unexpected: ['extra.weight'] },
    });
    expect(error.message).toContain(path.join(dir, 'model.safetensors'));
    expect(error.message).toMatch(/logit_scale: expected \[\], got \[2\]/);
  });

  it('reports a truncated safetensors file, naming it', async () => {
    const dir = await copy('clip', 'truncated');
    const file = path.join(dir, 'model.safetensors');
    await truncate(file, 100_000);
    await expect(loadPretrained(dir)).rejects.toMatchObject({
      code: 'E_PRETRAINED_WEIGHTS',
      message: expect.stringMatching(/model\.safetensors.*truncated/),
    });
  });

  it('reports a truncated shard of a sharded folder', async () => {
    const dir = await copy('clip-eos', 'truncated-shard');
    await truncate(path.join(dir, 'model-00002-of-00002.safetensors'), 1000);
    await expect(loadPretrained(dir)).rejects.toMatchObject({
      code: 'E_PRETRAINED_WEIGHTS',
      message: expect.stringContaining('model-00002-of-00002.safetensors'),
    });
  });

  it('lists the supported model types for an unknown one', async () => {
    const dir = await copy('clip', 'unknown-type');
    const config = JSON.parse(await readFile(path.join(dir, 'config.json'), 'utf8'));
    await writeFile(path.join(dir, 'config.json'), JSON.stringify({ ...config, model_type: 'llama' }));
    await expect(loadPretrained(dir)).rejects.toMatchObject({
      code: 'E_PRETRAINED_CONFIG',
      message: expect.stringMatching(/"llama".*supported: clip, clip_vision_model, clip_text_model/),
    });
  });

  it('refuses an unsupported hidden_act, naming the key', async () => {
    const dir = await copy('clip', 'bad-act');
    const config = JSON.parse(await readFile(path.join(dir, 'config.json'), 'utf8'));
    config.vision_config.hidden_act = 'silu';
    await writeFile(path.join(dir, 'config.json'), JSON.stringify(config));
    await expect(loadPretrained(dir)).rejects.toMatchObject({
      code: 'E_PRETRAINED_CONFIG',
      details: { field: 'vision_config.hidden_act' },
    });
  });

  it('reports a missing or malformed tokenizer', async () => {
    const missing = await copy('clip', 'no-tokenizer');
    await rm(path.join(missing, 'tokenizer.json'));
    await expect(loadPretrained(missing)).rejects.toMatchObject({
      code: 'E_PRETRAINED_TOKENIZER',
      message: expect.stringContaining('tokenizer.json'),
    });
    const malformed = await copy('clip', 'bad-tokenizer');
    await writeFile(path.join(malformed, 'tokenizer.json'), '{"model": {"type": "BPE", "vocab": 3}}');
    await expect(loadPretrained(malformed)).rejects.toMatchObject({ code: 'E_PRETRAINED_TOKENIZER' });
    const badConfig = await copy('clip', 'bad-tokenizer-config');
    await writeFile(path.join(badConfig, 'tokenizer_config.json'), '{"eos_token": ');
    await expect(loadPretrained(badConfig)).rejects.toMatchObject({
      code: 'E_PRETRAINED_TOKENIZER',
      message: expect.stringContaining('tokenizer_config.json'),
    });
  });

  it('reports a missing or malformed preprocessor config', async () => {
    const missing = await copy('clip-vision', 'no-processor');
    await rm(path.join(missing, 'preprocessor_config.json'));
    await expect(loadPretrained(missing)).rejects.toMatchObject({
      code: 'E_PRETRAINED_PROCESSOR',
      message: expect.stringContaining('preprocessor_config.json'),
    });
    const bad = await copy('clip-vision', 'bad-processor');
    await writeFile(path.join(bad, 'preprocessor_config.json'), JSON.stringify({ size: { shortest_edge: 32 }, do_pad: true }));
    await expect(loadPretrained(bad)).rejects.toMatchObject({ code: 'E_PRETRAINED_PROCESSOR', message: expect.stringContaining('do_pad') });
  });

  it('answers a hub id with how to download the folder, fetching nothing', async () => {
    for (const load of [loadPretrained, loadModel]) {
      await expect(load('openai/clip-vit-base-patch32')).rejects.toMatchObject({
        code: 'E_PRETRAINED_NOT_FOUND',
        message: expect.stringContaining('huggingface-cli download openai/clip-vit-base-patch32 --local-dir'),
      });
    }
  });
});
