import path from 'node:path';
import { TesseraError, writeFileAtomic } from '@tessera/core';
import { type DataRecord, readManifest } from '@tessera/data';
import { ExactStore } from '@tessera/index';
import sharp, { type OverlayOptions } from 'sharp';
import type { Embedder } from './embedder.js';
import { listImages } from './imageSource.js';
import { indexImages } from './indexImages.js';
import { thumbnailPng } from './thumbnail.js';

/** A text query of the sheet and the concept its correct hits show. */
export interface ContactSheetQuery {
  text: string;
  lang: string;
  /** The `conceptKey` value of the images that answer it. */
  concept: string;
}

/** One retrieved image, ranked by the search. */
export interface ContactSheetHit {
  /** The store id: the image path relative to the manifest (the record's key). */
  id: string;
  path: string;
  score: number;
  /** The image's first caption in the query's language (else its first caption, else its id). */
  label: string;
  concept: string | undefined;
  /** The image shows the query's concept. */
  correct: boolean;
}

/** A query with its top-k hits, best first. */
export interface ContactSheetRow {
  query: ContactSheetQuery;
  hits: ContactSheetHit[];
}

/** What `writeContactSheet` searches, with which model, and where the sheet goes. */
export interface ContactSheetOptions {
  /** The model that searches (`Embedder.load` of a model directory). */
  embedder: Embedder;
  /** The manifest of the images searched (JSONL/CSV/TSV), e.g. a held-out test split. */
  manifest: string;
  queries: readonly ContactSheetQuery[];
  /** Where contact-sheet.html and contact-sheet.png go. */
  outDir: string;
  /** Hits per query (default 5). */
  k?: number;
  /** The manifest field naming an image's concept (default `concept`). */
  conceptKey?: string;
  /** Thumbnail edge in pixels (default 96). */
  thumbSize?: number;
  /** The heading of both files. */
  title?: string;
}

/** The files `writeContactSheet` wrote and the rows they show. */
export interface ContactSheetResult {
  /** Path of contact-sheet.html. */
  html: string;
  /** Path of contact-sheet.png. */
  png: string;
  rows: ContactSheetRow[];
}

/** Layout of the PNG, in pixels (see `writeContactSheet`). */
const MARGIN = 16;
const HEADER = 52;
const QUERY_W = 176;
const PAD = 8;
const LABEL_H = 34;
const GAP = 8;
const FONT = "'Noto Sans CJK SC', 'Noto Sans', 'DejaVu Sans', sans-serif";
const GREEN = '#1a7f37';
const GREY = '#d0d7de';

/**
 * The queries for labels of concepts in a manifest: each label must be a caption of some image
 * there (its concept is that image's), else E_CONFIG, so a sheet never asks for what the split
 * does not hold.
 */
export function contactSheetQueries(
  records: readonly DataRecord[],
  labels: readonly { text: string; lang: string }[],
  conceptKey = 'concept',
): ContactSheetQuery[] {
  return labels.map(({ text, lang }) => {
    const record = records.find((r) => r.meta[conceptKey] !== undefined && r.captions.some((c) => c.text === text && c.lang === lang));
    if (!record)
      throw new TesseraError(
        'E_CONFIG',
        `no image of the manifest has the ${lang} caption ${JSON.stringify(text)}: pick a concept it holds`,
      );
    return { text, lang, concept: String(record.meta[conceptKey]) };
  });
}

/**
 * Searches the manifest's images for each query with the app's search (the images indexed into
 * an in-memory exact store by `indexImages`, the query embedded as `tessera search` does) and
 * writes what it finds to `outDir`: contact-sheet.html (self-contained: thumbnails inlined as
 * data URIs) and contact-sheet.png, one row per query with its top k thumbnails, the correct
 * ones (the query's concept) framed in green, each captioned. Both are written atomically.
 * PNG size: width 2·16 + 176 + k·(thumbSize + 16) + (k − 1)·8, height 2·16 + 52 +
 * n·(thumbSize + 50) + (n − 1)·8 for n queries.
 */
export async function writeContactSheet(options: ContactSheetOptions): Promise<ContactSheetResult> {
  const { embedder, queries } = options;
  const k = options.k ?? 5;
  const conceptKey = options.conceptKey ?? 'concept';
  const thumbSize = options.thumbSize ?? 96;
  const byId = new Map((await readManifest(options.manifest)).records.map((r) => [r.key, r]));
  const store = await ExactStore.create({ modelId: embedder.modelId, dim: embedder.dim });
  let rows: ContactSheetRow[];
  try {
    await indexImages({ embedder, store, listing: await listImages(options.manifest) });
    rows = [];
    for (const query of queries) {
      const hits = await store.search(embedder.modelId, embedder.embedTexts([query.text])[0] as Float32Array, k);
      rows.push({
        query,
        hits: hits.map((h) => {
          const record = byId.get(h.id);
          const value = record?.meta[conceptKey];
          const concept = value === undefined ? undefined : String(value);
          const caption = record?.captions.find((c) => c.lang === query.lang) ?? record?.captions[0];
          return { id: h.id, path: h.path, score: h.score, label: caption?.text ?? h.id, concept, correct: concept === query.concept };
        }),
      });
    }
  } finally {
    await store.close();
  }
  const thumbs = new Map<string, Buffer>();
  for (const hit of rows.flatMap((r) => r.hits))
    if (!thumbs.has(hit.path)) thumbs.set(hit.path, await thumbnailPng(hit.path, thumbSize, { enlarge: true }));
  const title = options.title ?? `Text-to-image search: top ${k} of ${byId.size} images; green: the query's concept`;
  const html = path.join(options.outDir, 'contact-sheet.html');
  const png = path.join(options.outDir, 'contact-sheet.png');
  await writeFileAtomic(html, sheetHtml(rows, thumbs, title, thumbSize));
  await writeFileAtomic(png, await sheetPng(rows, thumbs, title, thumbSize, k));
  return { html, png, rows };
}

/** Text safe inside HTML or SVG elements and quoted attributes. */
function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const correctCount = (row: ContactSheetRow) => row.hits.filter((h) => h.correct).length;

function sheetHtml(rows: readonly ContactSheetRow[], thumbs: ReadonlyMap<string, Buffer>, title: string, size: number): string {
  const sections = rows.map((row) => {
    const items = row.hits.map((h) => {
      const src = `data:image/png;base64,${(thumbs.get(h.path) as Buffer).toString('base64')}`;
      return `<li class="hit${h.correct ? ' correct' : ''}" data-id="${escapeXml(h.id)}"><img src="${src}" alt="${escapeXml(h.label)}" width="${size}" height="${size}"><span class="label">${escapeXml(h.label)}</span><span class="score">${h.score.toFixed(3)}</span></li>`;
    });
    const { text, lang } = row.query;
    return `<section class="query" lang="${escapeXml(lang)}">
<h2>${escapeXml(text)}</h2>
<p class="meta">${escapeXml(lang)} · ${correctCount(row)} of ${row.hits.length} correct</p>
<ol class="hits">${items.join('')}</ol>
</section>`;
  });
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeXml(title)}</title>
<style>
  body { font-family: system-ui, 'Noto Sans CJK SC', sans-serif; margin: 1.5rem; }
  section { display: flex; gap: 1rem; align-items: flex-start; margin-bottom: .75rem; }
  section > h2 { width: 10rem; font-size: 1.1rem; margin: .5rem 0 0; }
  .meta { width: 6rem; color: #57606a; font-size: .85rem; margin: .6rem 0 0; }
  ol { display: flex; gap: .5rem; list-style: none; margin: 0; padding: 0; }
  li { width: ${size + 8}px; border: 4px solid ${GREY}; border-radius: 4px; padding: 4px; text-align: center; font-size: .8rem; }
  li.correct { border-color: ${GREEN}; }
  li img { display: block; margin: 0 auto; object-fit: contain; }
  .label { display: block; word-break: break-word; }
  .score { display: block; color: #57606a; font-variant-numeric: tabular-nums; }
</style>
</head>
<body>
<h1>${escapeXml(title)}</h1>
${sections.join('\n')}
</body>
</html>
`;
}

/** Rough advance of a character at `px` (CJK and full-width: one em; others: about 0.6 em). */
const charWidth = (c: string, px: number) =>
  /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\uff00-\uff60]/.test(c) ? px : 0.6 * px;

/** `text` broken into at most `lines` lines of `width` px (at spaces where it can), the last cut with an ellipsis. */
function wrap(text: string, width: number, px: number, lines: number): string[] {
  const out: string[] = [];
  let line = '';
  let w = 0;
  for (const token of text.match(/\S+\s*|\s+/g) ?? []) {
    const tw = [...token.trimEnd()].reduce((s, c) => s + charWidth(c, px), 0);
    if (w + tw > width && tw <= width && line.trim() !== '') {
      // The word fits on a line of its own: start one rather than cut it.
      out.push(line.trimEnd());
      line = '';
      w = 0;
    }
    if (w + tw <= width) {
      line += token;
      w += [...token].reduce((s, c) => s + charWidth(c, px), 0);
      continue;
    }
    for (const c of token) {
      const cw = charWidth(c, px);
      if (w + cw > width && line.trim() !== '') {
        out.push(line.trimEnd());
        line = '';
        w = 0;
      }
      if (line === '' && c === ' ') continue;
      line += c;
      w += cw;
    }
  }
  if (line.trim() !== '') out.push(line.trimEnd());
  if (out.length <= lines) return out;
  const kept = out.slice(0, lines);
  let last = kept[lines - 1] as string;
  while (last.length > 0 && [...`${last}…`].reduce((s, c) => s + charWidth(c, px), 0) > width) last = last.slice(0, -1);
  kept[lines - 1] = `${last.trimEnd()}…`;
  return kept;
}

const svgText = (x: number, y: number, px: number, fill: string, text: string, weight = 'normal', anchor = 'start') =>
  `<text x="${x}" y="${y}" font-family="${FONT}" font-size="${px}" font-weight="${weight}" fill="${fill}" text-anchor="${anchor}">${escapeXml(text)}</text>`;

async function sheetPng(
  rows: readonly ContactSheetRow[],
  thumbs: ReadonlyMap<string, Buffer>,
  title: string,
  size: number,
  k: number,
): Promise<Buffer> {
  const cellW = size + 2 * PAD;
  const cellH = size + 2 * PAD + LABEL_H;
  const width = 2 * MARGIN + QUERY_W + k * cellW + (k - 1) * GAP;
  const height = 2 * MARGIN + HEADER + rows.length * cellH + Math.max(0, rows.length - 1) * GAP;
  const svg = wrap(title, width - 2 * MARGIN, 16, 2).map((line, i) => svgText(MARGIN, MARGIN + 16 + i * 20, 16, '#1f2328', line, 'bold'));
  const images: OverlayOptions[] = [];
  for (const [i, row] of rows.entries()) {
    const y = MARGIN + HEADER + i * (cellH + GAP);
    for (const [j, line] of wrap(row.query.text, QUERY_W - 12, 16, 2).entries())
      svg.push(svgText(MARGIN, y + 24 + j * 20, 16, '#1f2328', line, 'bold'));
    svg.push(svgText(MARGIN, y + 66, 12, '#57606a', `${row.query.lang} · ${correctCount(row)} of ${row.hits.length} correct`));
    for (const [j, hit] of row.hits.entries()) {
      const x = MARGIN + QUERY_W + j * (cellW + GAP);
      const stroke = hit.correct ? 4 : 1;
      svg.push(
        `<rect x="${x + stroke / 2}" y="${y + stroke / 2}" width="${cellW - stroke}" height="${cellH - stroke}" rx="4" fill="none" stroke="${hit.correct ? GREEN : GREY}" stroke-width="${stroke}"/>`,
      );
      for (const [l, line] of wrap(hit.label, cellW - 8, 12, 2).entries())
        svg.push(svgText(x + cellW / 2, y + size + PAD + 18 + l * 14, 12, '#1f2328', line, 'normal', 'middle'));
      const thumb = thumbs.get(hit.path) as Buffer;
      const meta = await sharp(thumb).metadata();
      const left = x + PAD + Math.floor((size - (meta.width ?? size)) / 2);
      const top = y + PAD + Math.floor((size - (meta.height ?? size)) / 2);
      images.push({ input: thumb, left, top });
    }
  }
  const overlay = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${svg.join('')}</svg>`;
  return sharp({ create: { width, height, channels: 3, background: '#ffffff' } })
    .composite([{ input: Buffer.from(overlay), left: 0, top: 0 }, ...images])
    .png()
    .toBuffer();
}
