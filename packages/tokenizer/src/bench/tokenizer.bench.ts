/**
 * Speed of encodeBatch (tokens/s) on ~10 MB of mixed English/Chinese captions against the
 * Hugging Face Rust binding and @huggingface/tokenizers (pure JS), same tokenizer.json, same
 * run; and the time to train a 30k byte-level BPE against the Rust binding's default trainer.
 * Run: npm run bench -w @tessera/tokenizer   (TESSERA_BENCH_MB=2 for a quicker run)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { Tokenizer as HfJsTokenizer } from '@huggingface/tokenizers';
import { recordBenchmark } from '@tessera/base';
import { bertTokenizerJSON, gpt2TokenizerJSON } from '../../test/reference.js';
import { Tokenizer } from '../tokenizer.js';
import { trainByteLevelBpe } from '../trainers/train.js';
import { captionCorpus } from './corpus.js';

const require = createRequire(import.meta.url);
const rust: typeof import('tokenizers') = require('tokenizers');

const MB = Number(process.env.TESSERA_BENCH_MB ?? 10);
const BATCH = 256;
const corpus = captionCorpus(MB * 1_000_000);
const bytes = corpus.reduce((n, t) => n + Buffer.byteLength(t, 'utf8'), 0);
console.log(`corpus: ${corpus.length} captions, ${(bytes / 1e6).toFixed(1)} MB`);

function batches(): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < corpus.length; i += BATCH) out.push(corpus.slice(i, i + BATCH));
  return out;
}

async function time(label: string, f: () => Promise<number> | number): Promise<{ seconds: number; tokens: number }> {
  const start = performance.now();
  const tokens = await f();
  const seconds = (performance.now() - start) / 1000;
  console.log(`${label}: ${seconds.toFixed(2)} s, ${tokens} tokens, ${(tokens / seconds / 1e6).toFixed(2)} M tokens/s`);
  return { seconds, tokens };
}

const details = { corpusMB: +(bytes / 1e6).toFixed(2), captions: corpus.length, batch: BATCH, cores: cpus().length, node: process.version };

for (const [name, json] of [
  ['gpt2', gpt2TokenizerJSON()],
  ['bert-base-uncased', bertTokenizerJSON()],
] as const) {
  const ours = Tokenizer.fromJSON(json);
  const ref = rust.Tokenizer.fromString(JSON.stringify(json));
  const hf = new HfJsTokenizer(json, {});
  const all = batches();
  // Warm-up on a slice, so each library's JIT and caches start equal.
  for (const b of all.slice(0, 20)) {
    ours.encodeBatch(b);
    await ref.encodeBatch(b);
    for (const t of b) hf.encode(t);
  }
  const o = await time(`${name} ours encodeBatch`, () => {
    let n = 0;
    for (const b of all) for (const e of ours.encodeBatch(b)) n += e.ids.length;
    return n;
  });
  const r = await time(`${name} rust encodeBatch`, async () => {
    let n = 0;
    for (const b of all) for (const e of await ref.encodeBatch(b)) n += e.getIds().length;
    return n;
  });
  const h = await time(`${name} @huggingface/tokenizers encode`, () => {
    let n = 0;
    for (const b of all) for (const t of b) n += hf.encode(t).ids.length;
    return n;
  });
  if (o.tokens !== r.tokens) console.warn(`token counts differ from Rust: ${o.tokens} vs ${r.tokens}`);
  for (const [peer, peerName] of [
    [r, 'tokenizers@0.23.2 (Rust binding, encodeBatch + getIds)'],
    [h, '@huggingface/tokenizers@0.2.0 (pure JS, encode per text)'],
  ] as const) {
    await recordBenchmark({
      benchmark: `tokenizer-encode-${name}-vs-${peerName.startsWith('tokenizers') ? 'rust' : 'hfjs'}`,
      metric: `encodeBatch throughput, ${name}`,
      unit: 'tokens/s',
      ours: o.tokens / o.seconds,
      peer: peer.tokens / peer.seconds,
      peerName,
      higherIsBetter: true,
      backend: 'js',
      details: { ...details, tokens: o.tokens },
    });
  }
}

// Training: 30k byte-level BPE on the same captions.
const dir = mkdtempSync(path.join(tmpdir(), 'tessera-tok-bench-'));
const file = path.join(dir, 'captions.txt');
writeFileSync(file, corpus.join('\n'));
const ours = await time(
  'train ours (byte-level BPE, 30k)',
  async () => (await trainByteLevelBpe({ files: [file] }, { vocabSize: 30000 })).vocabSize,
);
const peer = await time('train rust (BpeTrainer defaults: 30k, ByteLevel pre-tokenizer)', () => {
  const t = new rust.Tokenizer(rust.BPE.empty());
  t.setPreTokenizer(rust.byteLevelPreTokenizer(false, true));
  t.train([file]);
  return t.getVocabSize();
});
rmSync(dir, { recursive: true, force: true });
await recordBenchmark({
  benchmark: 'tokenizer-train-bpe-vs-rust',
  metric: 'train 30k byte-level BPE',
  unit: 's',
  ours: ours.seconds,
  peer: peer.seconds,
  peerName: 'tokenizers@0.23.2 (Rust binding, default BpeTrainer, multithreaded)',
  higherIsBetter: false,
  backend: 'js',
  details: { ...details, oursVocab: ours.tokens, peerVocab: peer.tokens },
});
