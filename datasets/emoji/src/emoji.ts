import { copyFile, mkdir, readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig, SeededRandom, writeFileAtomic } from '@tessera/core';
import { type Caption, type ManifestRow, writeManifest } from '@tessera/data';
import { z } from 'zod';

/**
 * The built-in text-image dataset: real emoji images from npm packages with English and
 * Chinese captions. Training uses Google's Noto style; the test split is the same concepts
 * drawn in Twitter's Twemoji style (never seen in training); the zero-shot split holds out
 * a seeded subset of concepts (Noto style) that training never sees at all.
 */
const require_ = createRequire(import.meta.url);
const BUILDER_VERSION = 1;

export const EMOJI_SPLITS = ['train', 'test', 'zeroshot'] as const;
export type EmojiSplit = (typeof EMOJI_SPLITS)[number];

export const emojiDatasetOptionsSchema = z
  .object({
    outDir: z.string().min(1),
    /** Seeds the choice of held-out (zero-shot) concepts. */
    seed: z.number().int().default(0),
    /** Fraction of concepts held out for the zero-shot split, chosen by `seed`. */
    zeroShotFraction: z.number().min(0).max(0.9).default(0.1),
    /** Whole categories held out as well, e.g. `Animals & Nature` (names as in emoji-datasource). */
    zeroShotCategories: z.array(z.string()).default([]),
    /** Add the skin-tone variants (1,875 more images per style) as concepts of their own. */
    skinTones: z.boolean().default(false),
    /** Only these concepts, as hex codepoints (`1F436`, FE0F ignored). */
    concepts: z.array(z.string().regex(/^[0-9A-Fa-f]+(-[0-9A-Fa-f]+)*$/)).optional(),
    /** Only N concepts, evenly spaced in Unicode order (a small dataset covering every category). */
    limit: z.number().int().positive().optional(),
    /** Tags appended to the tag-based caption variant in each language. */
    maxTags: z.number().int().nonnegative().default(4),
    /** Rewrite everything even when an identical build is already there. */
    force: z.boolean().default(false),
    onProgress: z.custom<(done: number, total: number) => void>((v) => typeof v === 'function').optional(),
  })
  .strict();
export type EmojiDatasetOptions = z.input<typeof emojiDatasetOptionsSchema>;

export interface EmojiDatasetResult {
  outDir: string;
  /** True when an identical build was found and nothing was written. */
  reused: boolean;
  /** Images copied in this run (existing identical copies are kept). */
  copied: number;
  splits: Record<EmojiSplit, { manifest: string; count: number }>;
  /** The held-out concepts of the zero-shot split (hex codepoints). */
  zeroShotConcepts: string[];
}

interface DatasourceEmoji {
  unified: string;
  image: string;
  short_name: string;
  category: string;
  subcategory: string;
  sort_order: number;
  has_img_google: boolean;
  has_img_twitter: boolean;
  skin_variations?: Record<string, { unified: string; image: string; has_img_google: boolean; has_img_twitter: boolean }>;
}

interface EmojibaseEntry {
  label: string;
  hexcode: string;
  emoji: string;
  tags?: string[];
  skins?: EmojibaseEntry[];
}

/** One emoji concept as both packages draw it, with emojibase labels and captions. */
export interface EmojiConcept {
  /** Codepoints without FE0F, e.g. `1F436`. */
  hex: string;
  /** Image file name in both emoji-datasource packages (`1f436.png`). */
  image: string;
  name: string;
  category: string;
  subcategory: string;
  emoji: string;
  label: { en: string; zh: string };
  captions: Caption[];
}

/** A base emoji and its skin-tone variants (held out together). */
export interface EmojiConceptGroup {
  base: string;
  category: string;
  members: EmojiConcept[];
}

export type EmojiPackage = 'emoji-datasource-google' | 'emoji-datasource-twitter' | 'emojibase-data';
const PACKAGES: readonly EmojiPackage[] = ['emoji-datasource-google', 'emoji-datasource-twitter', 'emojibase-data'];

/** The Apache License 2.0 text of the Noto images, shipped in this package's `licenses/` for every build that copies or draws them. */
export const NOTO_LICENSE_FILE = fileURLToPath(new URL('../licenses/Apache-2.0.txt', import.meta.url));

/** Where an emoji style's 64x64 PNG of a concept is installed. */
export function emojiImagePath(style: 'google' | 'twitter', image: string): string {
  return path.join(packageDir(`emoji-datasource-${style}`), 'img', style, '64', image);
}

/**
 * Every emoji drawn in both styles, in Unicode order, joined with its English and Chinese
 * emojibase labels by codepoint (FE0F ignored), with installed package versions.
 */
export async function loadEmojiConcepts(options: { skinTones?: boolean; maxTags?: number } = {}): Promise<{
  groups: EmojiConceptGroup[];
  versions: Record<EmojiPackage, string>;
}> {
  const dirs = Object.fromEntries(PACKAGES.map((p) => [p, packageDir(p)])) as Record<EmojiPackage, string>;
  const versions = {} as Record<EmojiPackage, string>;
  for (const p of PACKAGES) versions[p] = JSON.parse(await readFile(path.join(dirs[p], 'package.json'), 'utf8')).version;
  const emoji: DatasourceEmoji[] = JSON.parse(await readFile(path.join(dirs['emoji-datasource-google'], 'emoji.json'), 'utf8'));
  const en = labelIndex(JSON.parse(await readFile(path.join(dirs['emojibase-data'], 'en', 'data.json'), 'utf8')));
  const zh = labelIndex(JSON.parse(await readFile(path.join(dirs['emojibase-data'], 'zh', 'data.json'), 'utf8')));
  const maxTags = options.maxTags ?? 4;
  const groups: EmojiConceptGroup[] = [];
  for (const e of [...emoji].sort((a, b) => a.sort_order - b.sort_order)) {
    if (!e.has_img_google || !e.has_img_twitter) continue;
    const variants = [{ unified: e.unified, image: e.image }];
    if (options.skinTones)
      for (const v of Object.values(e.skin_variations ?? {})) if (v.has_img_google && v.has_img_twitter) variants.push(v);
    const members: EmojiConcept[] = [];
    for (const v of variants) {
      const hex = normalizeHex(v.unified);
      const enEntry = en.get(hex);
      const zhEntry = zh.get(hex);
      if (!enEntry || !zhEntry) continue;
      members.push({
        hex,
        image: v.image,
        name: e.short_name,
        category: e.category,
        subcategory: e.subcategory,
        emoji: enEntry.entry.emoji,
        label: { en: enEntry.entry.label, zh: zhEntry.entry.label },
        captions: [
          ...emojiCaptions(enEntry.entry.label, enEntry.tags, 'en', maxTags),
          ...emojiCaptions(zhEntry.entry.label, zhEntry.tags, 'zh', maxTags),
        ],
      });
    }
    if (members.length > 0) groups.push({ base: normalizeHex(e.unified), category: e.category, members });
  }
  return { groups, versions };
}

/** Codepoints joined by `-`, upper case, without the FE0F variation selector (how the two packages meet). */
export function normalizeHex(hex: string): string {
  return hex
    .toUpperCase()
    .split('-')
    .filter((c) => c !== 'FE0F')
    .join('-');
}

function packageDir(name: string): string {
  return path.dirname(require_.resolve(`${name}/package.json`));
}

function labelIndex(entries: EmojibaseEntry[]): Map<string, { entry: EmojibaseEntry; tags: string[] }> {
  const map = new Map<string, { entry: EmojibaseEntry; tags: string[] }>();
  for (const e of entries) {
    map.set(normalizeHex(e.hexcode), { entry: e, tags: e.tags ?? [] });
    for (const s of e.skins ?? []) map.set(normalizeHex(s.hexcode), { entry: s, tags: s.tags ?? e.tags ?? [] });
  }
  return map;
}

/** `dog face` and `dog face, adorbs, animal, pet, puppies`: the label, then the label with tags it does not already contain. */
export function emojiCaptions(label: string, tags: readonly string[], lang: 'en' | 'zh', maxTags: number): Caption[] {
  const lower = label.toLowerCase();
  const extra = tags.filter((t) => t.trim() !== '' && !lower.includes(t.toLowerCase())).slice(0, maxTags);
  const captions: Caption[] = [{ text: label, lang }];
  if (extra.length > 0) captions.push({ text: [label, ...extra].join(lang === 'zh' ? '，' : ', '), lang });
  return captions;
}

async function sameSize(a: string, b: string): Promise<boolean> {
  try {
    const [sa, sb] = await Promise.all([stat(a), stat(b)]);
    return sa.size === sb.size;
  } catch {
    return false;
  }
}

function attribution(versions: Record<string, string>): string {
  return `# Attribution and licences

This folder was built by \`tessera data emoji\` (@tessera/dataset-emoji) from three npm packages.
Images are copied unmodified; captions are emojibase labels and tags, some joined into one string.

## Images of the train and zero-shot splits: Google Noto Emoji
- Source: npm \`emoji-datasource-google@${versions['emoji-datasource-google']}\` (64x64 PNG), from https://github.com/googlefonts/noto-emoji
- Copyright Google LLC. Licensed under the Apache License, Version 2.0: see \`LICENSES/Apache-2.0.txt\`.

## Images of the test split: Twemoji
- Source: npm \`emoji-datasource-twitter@${versions['emoji-datasource-twitter']}\` (64x64 PNG), from https://github.com/jdecked/twemoji
- Copyright Twitter, Inc and other contributors. Graphics licensed under CC-BY 4.0:
  https://creativecommons.org/licenses/by/4.0/ . No changes were made to the images.

## Captions (labels and tags in English and Chinese): emojibase
- Source: npm \`emojibase-data@${versions['emojibase-data']}\`, https://github.com/milesj/emojibase
- Copyright (c) 2017-2019 Miles Johnson. MIT licence: see \`LICENSES/emojibase-data-MIT.txt\`.

## Emoji metadata (names, categories, image file names): emoji-data
- Source: the emoji.json of the packages above, https://github.com/iamcal/emoji-data
- Copyright (c) 2013 Cal Henderson. MIT licence: see \`LICENSES/emoji-data-MIT.txt\`.
`;
}

/**
 * Builds (or finds already built) the emoji dataset in `outDir`:
 * `images/{google,twitter}/*.png`, `train.jsonl`, `test.jsonl`, `zeroshot.jsonl`,
 * `manifest.jsonl` (all rows, with `split`), `ATTRIBUTION.md`, `LICENSES/`, and
 * `dataset.json` (written last; it marks a complete build and makes reruns free).
 */
export async function buildEmojiDataset(options: EmojiDatasetOptions): Promise<EmojiDatasetResult> {
  const opts = parseConfig(emojiDatasetOptionsSchema, options, 'emoji dataset options');
  const outDir = path.resolve(opts.outDir);
  const dirs = Object.fromEntries(PACKAGES.map((p) => [p, packageDir(p)])) as Record<EmojiPackage, string>;
  const versions: Record<string, string> = {};
  for (const p of PACKAGES) versions[p] = JSON.parse(await readFile(path.join(dirs[p], 'package.json'), 'utf8')).version;
  const { outDir: _o, force: _f, onProgress: _p, ...recipe } = opts;
  const fingerprint = JSON.stringify({ builder: BUILDER_VERSION, versions, recipe });
  const splitFiles = Object.fromEntries(EMOJI_SPLITS.map((s) => [s, path.join(outDir, `${s}.jsonl`)])) as Record<EmojiSplit, string>;
  const infoPath = path.join(outDir, 'dataset.json');

  if (!opts.force) {
    try {
      const info = JSON.parse(await readFile(infoPath, 'utf8'));
      if (info.fingerprint === fingerprint) {
        await Promise.all(Object.values(splitFiles).map((f) => stat(f)));
        const splits = Object.fromEntries(EMOJI_SPLITS.map((s) => [s, { manifest: splitFiles[s], count: info.counts[s] as number }]));
        return { outDir, reused: true, copied: 0, splits: splits as EmojiDatasetResult['splits'], zeroShotConcepts: info.zeroShotConcepts };
      }
    } catch {
      // No complete build with this recipe: build it.
    }
  }

  let groups = (await loadEmojiConcepts({ skinTones: opts.skinTones, maxTags: opts.maxTags })).groups;
  if (opts.concepts) {
    const wanted = new Set(opts.concepts.map(normalizeHex));
    groups = groups.filter((g) => wanted.has(g.base));
  }
  if (opts.limit !== undefined && opts.limit < groups.length) {
    const step = groups.length / opts.limit;
    groups = Array.from({ length: opts.limit }, (_, i) => groups[Math.floor(i * step)] as (typeof groups)[number]);
  }

  const heldCategories = new Set(opts.zeroShotCategories);
  const held = new Set(groups.filter((g) => heldCategories.has(g.category)).map((g) => g.base));
  const rest = groups.filter((g) => !held.has(g.base));
  const order = new SeededRandom(opts.seed).fork('zeroshot').permutation(rest.length);
  for (const i of order.slice(0, Math.round(opts.zeroShotFraction * rest.length))) held.add((rest[i] as (typeof rest)[number]).base);

  const rows: Record<EmojiSplit, ManifestRow[]> = { train: [], test: [], zeroshot: [] };
  const copies = new Map<string, string>();
  const addRow = (split: EmojiSplit, style: 'google' | 'twitter', c: EmojiConcept) => {
    const rel = `images/${style}/${c.image}`;
    copies.set(path.join(outDir, rel), emojiImagePath(style, c.image));
    rows[split].push({
      image: rel,
      captions: c.captions,
      split,
      concept: c.hex,
      emoji: c.emoji,
      name: c.name,
      category: c.category,
      subcategory: c.subcategory,
      style,
    });
  };
  for (const g of groups) {
    for (const c of g.members) {
      if (held.has(g.base)) addRow('zeroshot', 'google', c);
      else {
        addRow('train', 'google', c);
        addRow('test', 'twitter', c);
      }
    }
  }

  await mkdir(path.join(outDir, 'images', 'google'), { recursive: true });
  await mkdir(path.join(outDir, 'images', 'twitter'), { recursive: true });
  const jobs = [...copies.entries()];
  let next = 0;
  let done = 0;
  let copied = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const [dest, src] = jobs[next++] as [string, string];
      if (opts.force || !(await sameSize(src, dest))) {
        await copyFile(src, dest);
        copied++;
      }
      opts.onProgress?.(++done, jobs.length);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));

  for (const s of EMOJI_SPLITS) await writeManifest(splitFiles[s], rows[s]);
  await writeManifest(path.join(outDir, 'manifest.jsonl'), [...rows.train, ...rows.test, ...rows.zeroshot]);
  const licenses = path.join(outDir, 'LICENSES');
  await writeFileAtomic(path.join(licenses, 'Apache-2.0.txt'), await readFile(NOTO_LICENSE_FILE));
  await writeFileAtomic(path.join(licenses, 'emojibase-data-MIT.txt'), await readFile(path.join(dirs['emojibase-data'], 'LICENSE')));
  await writeFileAtomic(path.join(licenses, 'emoji-data-MIT.txt'), await readFile(path.join(dirs['emoji-datasource-google'], 'LICENSE')));
  await writeFileAtomic(path.join(outDir, 'ATTRIBUTION.md'), attribution(versions));

  const zeroShotConcepts = rows.zeroshot.map((r) => r.concept as string);
  const counts = Object.fromEntries(EMOJI_SPLITS.map((s) => [s, rows[s].length])) as Record<EmojiSplit, number>;
  await writeFileAtomic(
    infoPath,
    `${JSON.stringify(
      {
        name: 'tessera-emoji',
        fingerprint,
        counts,
        styles: { train: 'google', test: 'twitter', zeroshot: 'google' },
        languages: ['en', 'zh'],
        zeroShotConcepts,
      },
      null,
      2,
    )}\n`,
  );
  const splits = Object.fromEntries(
    EMOJI_SPLITS.map((s) => [s, { manifest: splitFiles[s], count: counts[s] }]),
  ) as EmojiDatasetResult['splits'];
  return { outDir, reused: false, copied, splits, zeroShotConcepts };
}
