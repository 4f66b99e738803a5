/**
 * @tessera/eval: retrieval and captioning metrics with published definitions.
 *
 * @module @tessera/eval
 */
export { bleu } from './captions/bleu.js';
export { ciderD } from './captions/cider.js';
export { type CaptionItem, type CaptionScores, evaluateCaptions } from './captions/evaluateCaptions.js';
export { longestCommonSubsequence, rougeL, rougeLSentence } from './captions/rouge.js';
export { tokenizeCaption } from './captions/tokenizeCaption.js';
export { type RankMetrics, type RetrievalMetrics, retrievalMetrics } from './retrieval/retrievalMetrics.js';
