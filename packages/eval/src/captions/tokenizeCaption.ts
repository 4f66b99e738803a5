const CJK = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]/g;
const SPLITTERS = /[,;:!?"()[\]{}\u2026]|\.(?!\d)|(?<!\d)\./g;
const EDGE_PUNCTUATION = /^\p{P}+|\p{P}+$/gu;
const CONTRACTION = /^'(s|re|ve|ll|m|d)$|^n't$/;

/**
 * Caption tokenisation for the metrics, after the COCO caption evaluation code (Stanford
 * PTBTokenizer with -lowerCase, then punctuation tokens removed): NFKC, lowercase, split off
 * English contractions (n't, 's, 're, 've, 'll, 'm, 'd), drop punctuation, keep internal
 * hyphens and decimal points. Chinese, Japanese and Korean characters become one token each,
 * the usual character-level evaluation for those languages (there are no spaces to split on).
 *
 * `"A dog's ball isn't 3.5 m-long!"` gives `["a", "dog", "'s", "ball", "is", "n't", "3.5", "m-long"]`.
 * Used by `evaluateCaptions` on candidates and references alike; pass its output to `bleu`,
 * `rougeL` and `ciderD` when calling them directly.
 */
export function tokenizeCaption(text: string): string[] {
  let s = text.normalize('NFKC').toLowerCase();
  s = s.replace(CJK, (c) => ` ${c} `);
  s = s.replace(/n't\b/g, " n't").replace(/'(s|re|ve|ll|m|d)\b/g, " '$1");
  s = s.replace(SPLITTERS, ' ');
  const tokens: string[] = [];
  for (const raw of s.split(/\s+/)) {
    if (raw === '') continue;
    const token = CONTRACTION.test(raw) ? raw : raw.replace(EDGE_PUNCTUATION, '');
    if (token !== '') tokens.push(token);
  }
  return tokens;
}
