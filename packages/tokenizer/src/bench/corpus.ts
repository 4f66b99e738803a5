import { createRequire } from 'node:module';
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
