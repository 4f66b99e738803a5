import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readManifest } from '@tessera/data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEmojiDataset, emojiCaptions, normalizeHex } from './emoji.js';

const require_ = createRequire(import.meta.url);
const pkgImage = (style: string, file: string) =>
  path.join(path.dirname(require_.resolve(`emoji-datasource-${style}/package.json`)), 'img', style, '64', file);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tessera-emoji-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// dog face, red apple, red heart (2764-FE0F in emoji-datasource, 2764 in emojibase), thumbs up, flag: Japan.
const concepts = ['1F436', '1F34E', '2764-FE0F', '1F44D', '1F1EF-1F1F5'];

describe('buildEmojiDataset', () => {
  it('builds train (Google), test (Twitter) and zero-shot splits with emojibase captions in English and Chinese', async () => {
    const outDir = path.join(dir, 'a');
    const result = await buildEmojiDataset({ outDir, concepts, zeroShotFraction: 0, zeroShotCategories: ['Flags'], skinTones: true });
    expect(result.reused).toBe(false);
    // 4 kept concepts, thumbs up with its 5 skin tones: 9 train and 9 test images; the flag is held out.
    expect(Object.fromEntries(Object.entries(result.splits).map(([k, v]) => [k, v.count]))).toEqual({ train: 9, test: 9, zeroshot: 1 });
    expect(result.zeroShotConcepts).toEqual(['1F1EF-1F1F5']);
    expect(result.copied).toBe(19);

    const train = await readManifest(result.splits.train.manifest);
    const test = await readManifest(result.splits.test.manifest);
    expect(train.skipped.total + test.skipped.total).toBe(0);
    const dog = train.records.find((r) => r.meta.concept === '1F436');
    // Labels and tags from emojibase-data 17 (en: dog face [adorbs, animal, dog, face, pet, puppies, puppy]; zh: 狗脸 [宠物, 小狗, 汪星人, 狗, 脸]).
    expect(dog?.captions).toEqual([
      { text: 'dog face', lang: 'en' },
      { text: 'dog face, adorbs, animal, pet, puppies', lang: 'en' },
      { text: '狗脸', lang: 'zh' },
      { text: '狗脸，宠物，小狗，汪星人', lang: 'zh' },
    ]);
    expect(dog?.meta).toMatchObject({ category: 'Animals & Nature', style: 'google', emoji: '🐶', name: 'dog' });
    expect(dog?.split).toBe('train');
    const heart = test.records.find((r) => r.meta.concept === '2764');
    expect(heart?.captions.filter((c) => !c.text.includes(',') && !c.text.includes('，')).map((c) => c.text)).toEqual([
      'red heart',
      '红心',
    ]);
    expect(train.records.map((r) => r.captions[0]?.text)).toContain('thumbs up: dark skin tone');

    // Images are the packages' files, copied byte for byte; the two styles differ.
    const g = await readFile((dog!.image as { path: string }).path);
    expect(g.equals(await readFile(pkgImage('google', '1f436.png')))).toBe(true);
    const testDog = test.records.find((r) => r.meta.concept === '1F436');
    const t = await readFile((testDog!.image as { path: string }).path);
    expect(t.equals(await readFile(pkgImage('twitter', '1f436.png')))).toBe(true);
    expect(t.equals(g)).toBe(false);
    expect(testDog?.captions).toEqual(dog?.captions);

    const attribution = await readFile(path.join(outDir, 'ATTRIBUTION.md'), 'utf8');
    expect(attribution).toContain('CC-BY 4.0');
    expect(attribution).toContain('Apache License, Version 2.0');
    expect(await readFile(path.join(outDir, 'LICENSES', 'Apache-2.0.txt'), 'utf8')).toContain(
      'TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION',
    );
    expect(await readFile(path.join(outDir, 'LICENSES', 'emojibase-data-MIT.txt'), 'utf8')).toContain('Miles Johnson');
    const all = await readManifest(path.join(outDir, 'manifest.jsonl'));
    expect(all.records).toHaveLength(19);

    // Idempotent: the same recipe is found and nothing is written; a new recipe reuses the copied images.
    expect(
      await buildEmojiDataset({ outDir, concepts, zeroShotFraction: 0, zeroShotCategories: ['Flags'], skinTones: true }),
    ).toMatchObject({
      reused: true,
      copied: 0,
    });
    const again = await buildEmojiDataset({
      outDir,
      concepts,
      zeroShotFraction: 0,
      zeroShotCategories: ['Flags'],
      skinTones: true,
      maxTags: 1,
    });
    expect(again).toMatchObject({ reused: false, copied: 0 });
  });

  it('holds out a seeded fraction of concepts, disjoint from training', async () => {
    const build = (sub: string, seed: number) =>
      buildEmojiDataset({ outDir: path.join(dir, sub), limit: 40, zeroShotFraction: 0.25, seed });
    const a = await build('b', 1);
    expect(a.splits.zeroshot.count).toBe(10);
    expect(a.splits.train.count).toBe(30);
    const train = await readManifest(a.splits.train.manifest);
    const trainConcepts = new Set(train.records.map((r) => r.meta.concept));
    expect(a.zeroShotConcepts.some((c) => trainConcepts.has(c))).toBe(false);
    expect(new Set(train.records.map((r) => r.meta.category)).size).toBeGreaterThanOrEqual(8);
    expect((await build('c', 1)).zeroShotConcepts).toEqual(a.zeroShotConcepts);
    expect((await build('d', 2)).zeroShotConcepts).not.toEqual(a.zeroShotConcepts);
  });

  it('joins codepoints without FE0F and writes tag variants only when tags add words', () => {
    expect(normalizeHex('2764-fe0f')).toBe('2764');
    expect(normalizeHex('0023-FE0F-20E3')).toBe('0023-20E3');
    expect(emojiCaptions('red apple', ['apple', 'fruit', 'red'], 'en', 4)).toEqual([
      { text: 'red apple', lang: 'en' },
      { text: 'red apple, fruit', lang: 'en' },
    ]);
    expect(emojiCaptions('苹果', ['苹果'], 'zh', 4)).toEqual([{ text: '苹果', lang: 'zh' }]);
  });

  it('rejects bad options with E_CONFIG naming the field', async () => {
    await expect(buildEmojiDataset({ outDir: dir, zeroShotFraction: 2 })).rejects.toMatchObject({
      code: 'E_CONFIG',
      message: expect.stringContaining('zeroShotFraction'),
    });
  });
});
