// Text-to-image R@1/5/10 through the built store (exact search), per caption language, to compare
// with `tessera eval retrieval` on the same manifest (which ranks with its own dense product).
// Usage: tsx --conditions=development bench/storeRecall.ts <store> <manifest>
import { readManifest } from '@tessera/data';
import { RetrievalService } from '../src/index.js';

const [store, manifestPath] = process.argv.slice(2);
if (!store || !manifestPath) throw new Error('usage: storeRecall.ts <store> <manifest>');
const service = await RetrievalService.open(store);
const manifest = await readManifest(manifestPath);
const stats = new Map<string, { n: number; r1: number; r5: number; r10: number }>();
for (const record of manifest.records) {
  for (const caption of record.captions) {
    const lang = caption.lang ?? 'und';
    const s = stats.get(lang) ?? { n: 0, r1: 0, r5: 0, r10: 0 };
    const rank = (await service.searchText(caption.text, 10)).findIndex((h) => h.id === record.key);
    s.n++;
    if (rank === 0) s.r1++;
    if (rank >= 0 && rank < 5) s.r5++;
    if (rank >= 0) s.r10++;
    stats.set(lang, s);
  }
}
for (const [lang, s] of stats)
  console.log(
    `${lang}  texts ${s.n}  R@1 ${((100 * s.r1) / s.n).toFixed(1)} %  R@5 ${((100 * s.r5) / s.n).toFixed(1)} %  R@10 ${((100 * s.r10) / s.n).toFixed(1)} %`,
  );
await service.close();
