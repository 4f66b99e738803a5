import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readManifest, writeManifest } from './manifest.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tessera-manifest-'));
  await mkdir(path.join(dir, 'sub'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('readManifest (JSONL)', () => {
  it('merges repeated rows, keeps languages and splits, and counts bad rows by reason', async () => {
    const file = path.join(dir, 'sub', 'm.jsonl');
    const lines = [
      JSON.stringify({ image: 'img/a.png', caption: 'a dog', lang: 'en', split: 'train', category: 'animal' }),
      JSON.stringify({ image: 'img/a.png', caption: '一只狗', lang: 'zh' }),
      JSON.stringify({ image: 'img/b.JPEG', captions: ['red apple', '  ', { text: '红苹果', lang: 'zh' }], split: 'test' }),
      '{"image": "img/c.png", "caption": "broken',
      '',
      JSON.stringify({ caption: 'no image' }),
      JSON.stringify({ image: 'img/d.png', caption: '   ' }),
      JSON.stringify({ image: 'img/e.png' }),
      '[1, 2]',
      JSON.stringify({ image: 'img/f.png', caption: 42 }),
      JSON.stringify({ image: '../g.png', text: 'up one level' }),
    ];
    await writeFile(file, `${lines.join('\n')}\n`);
    const m = await readManifest(file);
    expect(m.rows).toBe(10);
    expect(m.records.map((r) => r.key)).toEqual(['img/a.png', 'img/b.JPEG', '../g.png']);
    const [a, b, g] = m.records;
    expect(a?.captions).toEqual([
      { text: 'a dog', lang: 'en' },
      { text: '一只狗', lang: 'zh' },
    ]);
    expect(a?.split).toBe('train');
    expect(a?.meta).toEqual({ category: 'animal' });
    expect(a?.image).toEqual({ path: path.join(dir, 'sub', 'img', 'a.png'), ext: 'png' });
    expect(b?.captions).toEqual([{ text: 'red apple' }, { text: '红苹果', lang: 'zh' }]);
    expect(b?.image).toEqual({ path: path.join(dir, 'sub', 'img', 'b.JPEG'), ext: 'jpg' });
    expect(g?.image).toEqual({ path: path.join(dir, 'g.png'), ext: 'png' });
    expect(m.skipped.counts()).toEqual({ empty_caption: 2, malformed_line: 3, missing_image_path: 1 });
    expect(m.skipped.examples()[0]).toMatchObject({ reason: 'malformed_line', where: `${file}:4` });
  });

  it('round-trips what writeManifest writes', async () => {
    const file = path.join(dir, 'w.jsonl');
    await writeManifest(file, [{ image: 'x.png', captions: [{ text: 'dog face', lang: 'en' }], split: 'train', concept: '1F436' }]);
    const m = await readManifest(file);
    expect(m.records).toEqual([
      {
        key: 'x.png',
        image: { path: path.join(dir, 'x.png'), ext: 'png' },
        captions: [{ text: 'dog face', lang: 'en' }],
        split: 'train',
        meta: { concept: '1F436' },
      },
    ]);
  });

  it('fails with E_IO and the path when the manifest is missing', async () => {
    await expect(readManifest(path.join(dir, 'nope.jsonl'))).rejects.toMatchObject({ code: 'E_IO' });
    await expect(readManifest(path.join(dir, 'm.txt'))).rejects.toMatchObject({ code: 'E_INPUT' });
    await expect(readManifest(path.join(dir, 'm.jsonl'), { imageKey: '' })).rejects.toMatchObject({ code: 'E_CONFIG' });
  });
});

describe('readManifest (CSV/TSV)', () => {
  it('reads open_clip-style columns with quoting, embedded newlines and bad rows', async () => {
    const file = path.join(dir, 'm.csv');
    const csv = [
      'filepath,title,split',
      'a.png,"a dog, sitting",train',
      'a.png,"he said ""woof""",train',
      'b.jpg,"two',
      'lines",test',
      'c.png,too,many,fields',
      ',no image,train',
      'd.png,,train',
      '',
    ].join('\r\n');
    await writeFile(file, csv);
    const m = await readManifest(file, { imageKey: 'filepath', captionKey: 'title' });
    expect(m.records.map((r) => [r.key, r.captions.map((c) => c.text), r.split])).toEqual([
      ['a.png', ['a dog, sitting', 'he said "woof"'], 'train'],
      ['b.jpg', ['two\r\nlines'], 'test'],
    ]);
    expect(m.skipped.counts()).toEqual({ empty_caption: 1, malformed_line: 1, missing_image_path: 1 });
    expect(m.skipped.examples().find((e) => e.reason === 'malformed_line')?.where).toBe(`${file}:6`);
  });

  it('reads TSV with a tab separator and reports an unterminated quote', async () => {
    const file = path.join(dir, 'm.tsv');
    await writeFile(file, 'image\tcaption\tlang\na.png\tcat\ten\nb.png\t"unterminated\tzh\n');
    const m = await readManifest(file);
    expect(m.records.map((r) => [r.key, r.captions])).toEqual([['a.png', [{ text: 'cat', lang: 'en' }]]]);
    expect(m.skipped.counts()).toEqual({ malformed_line: 1 });
  });
});
