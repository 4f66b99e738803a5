import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { SeededRandom } from '@tessera/base';

interface Emoji {
  label: string;
  hexcode: string;
  tags?: string[];
  emoji: string;
}

const EN_TEMPLATES = [
  'a {label}',
  'the {label} next to a {tag}',
  'a photo of a {label}, {tag} and {tag}',
  '{label}: {tag}, {tag}',
  'an icon showing a {label} {emoji}',
];
const ZH_TEMPLATES = ['{label}', '一个{label}', '{label}和{tag}', '一张{label}的图片，{tag}、{tag}', '{label}图标{emoji}'];

/**
 * Mixed English/Chinese captions built from emojibase-data labels and tags (en and zh),
 * about `bytes` bytes of UTF-8; generated at bench time, never committed.
 */
export function captionCorpus(bytes: number, seed = 1): string[] {
  const require = createRequire(import.meta.url);
  const en: Emoji[] = require('emojibase-data/en/data.json');
  const zh: Emoji[] = require('emojibase-data/zh/data.json');
  const zhBy = new Map(zh.map((e) => [e.hexcode, e]));
  const pairs = en.filter((e) => zhBy.has(e.hexcode)).map((e) => [e, zhBy.get(e.hexcode)!] as const);
  const rng = new SeededRandom(seed);
  const fill = (template: string, e: Emoji) =>
    template.replace(/\{(label|tag|emoji)\}/g, (_, k: string) =>
      k === 'label' ? e.label : k === 'emoji' ? e.emoji : (e.tags?.[rng.int(e.tags.length)] ?? e.label),
    );
  const out: string[] = [];
  let size = 0;
  const encoder = new TextEncoder();
  while (size < bytes) {
    const [e, z] = pairs[rng.int(pairs.length)];
    const text =
      rng.uniform() < 0.5 ? fill(EN_TEMPLATES[rng.int(EN_TEMPLATES.length)], e) : fill(ZH_TEMPLATES[rng.int(ZH_TEMPLATES.length)], z);
    out.push(text);
    size += encoder.encode(text).length + 1;
  }
  return out;
}

/**
 * Long texts, half English and half Chinese by bytes, about `bytes` bytes: the English are
 * paragraphs of committed prose (the Apache-2.0 licence text under datasets/emoji/licenses and the
 * repository README), grouped into documents of 1-4 KB; the Chinese are documents of 1-4 KB of
 * emojibase zh captions joined into sentences with no spaces, so pre-tokenizers meet long runs.
 */
export function documentCorpus(bytes: number, root: string, seed = 2): string[] {
  const prose = ['datasets/emoji/licenses/Apache-2.0.txt', 'README.md']
    .flatMap((f) => readFileSync(path.join(root, f), 'utf8').split(/\n\s*\n/))
    .map((p) => p.replace(/\s+/g, ' ').trim())
    .filter((p) => p.length > 80);
  const zhCaptions = captionCorpus(bytes, seed).filter((t) => /[\u4e00-\u9fff]/.test(t));
  const rng = new SeededRandom(seed);
  const encoder = new TextEncoder();
  const out: string[] = [];
  let size = 0;
  let zhAt = 0;
  while (size < bytes) {
    const target = 1000 + rng.int(3000);
    let doc = '';
    if (out.length % 2 === 0) {
      while (encoder.encode(doc).length < target) doc += `${doc ? ' ' : ''}${prose[rng.int(prose.length)]}`;
    } else {
      while (encoder.encode(doc).length < target) doc += `${zhCaptions[zhAt++ % zhCaptions.length]}${rng.uniform() < 0.7 ? '，' : '。'}`;
    }
    out.push(doc);
    size += encoder.encode(doc).length + 1;
  }
  return out;
}
