/**
 * Speed of encodeBatch (tokens/s) against Python `tokenizers` 0.23 `encode_batch` from .venv-ref
 * (multi-threaded Rust, tokenizers_peer.py), its Node binding and @huggingface/tokenizers (pure
 * JS), same tokenizer.json, same batches of 256, same run, on two corpora: ~MB MB of short mixed
 * English/Chinese captions, and ~DOC_MB MB of long documents (committed English prose, Chinese
 * caption runs with no spaces; see corpus.ts). Ids are checked equal (token count and checksum)
 * before timing; one warm-up pass, then ROUNDS passes each, median and min-max.
 * Also the time to train a 30k byte-level BPE against the Rust binding's default trainer.
 * Run: npm run bench -w @tessera/tokenizer   (TESSERA_BENCH_MB=2 for a quicker run)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { Tokenizer as HfJsTokenizer } from '@huggingface/tokenizers';
import { recordBenchmark, referencePython, spread, TesseraError, workspaceRoot } from '@tessera/base';
import { bertTokenizerJSON, gpt2TokenizerJSON } from '../../test/reference.js';
import { Tokenizer } from '../tokenizer.js';
import { trainByteLevelBpe } from '../trainers/train.js';
import { captionCorpus, documentCorpus } from './corpus.js';

const require = createRequire(import.meta.url);
const rust: typeof import('tokenizers') = require('tokenizers');

const MB = Number(process.env.TESSERA_BENCH_MB ?? 10);
const DOC_MB = Number(process.env.TESSERA_BENCH_DOC_MB ?? MB / 2);
const ROUNDS = Number(process.env.TESSERA_BENCH_ROUNDS ?? 3);
const BATCH = 256;
const MOD = 1_000_000_007;
const dir = mkdtempSync(path.join(tmpdir(), 'tessera-tok-bench-'));

/** Token count and an id checksum over every text, the equality check shared with the Python peer. */
function tally(idLists: Iterable<ArrayLike<number>>, into = { tokens: 0, checksum: 0 }) {
  for (const ids of idLists) {
    let sum = 0;
    for (let i = 0; i < ids.length; i++) sum += ids[i] as number;
    into.tokens += ids.length;
    into.checksum = (into.checksum + sum) % MOD;
  }
  return into;
}

/** Seconds of each of ROUNDS passes after one warm-up pass, and the warm-up's tally. */
async function rounds(pass: () => Promise<{ tokens: number; checksum: number }>) {
  const check = await pass();
  const seconds: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const start = performance.now();
    await pass();
    seconds.push((performance.now() - start) / 1000);
  }
  return { check, seconds };
}

function pythonPeer(json: object, texts: string[], expected: { tokens: number; checksum: number }) {
  const file = path.join(dir, 'texts.jsonl');
  writeFileSync(file, `${texts.map((t) => JSON.stringify(t)).join('\n')}\n`);
  const job = path.join(dir, 'job.json');
  writeFileSync(job, JSON.stringify({ tokenizer: JSON.stringify(json), texts: file, batch: BATCH, rounds: ROUNDS, ...expected }));
  const run = spawnSync(referencePython(), [path.join(import.meta.dirname, 'tokenizers_peer.py'), job], { encoding: 'utf8' });
  if (run.status !== 0) throw new TesseraError('E_BENCH_PEER', `Python tokenizers peer failed: ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').at(-1) as string) as { seconds: number[]; tokens: number; tokenizers: string };
}

const corpora = {
  captions: captionCorpus(MB * 1_000_000),
  docs: documentCorpus(DOC_MB * 1_000_000, workspaceRoot()),
};
const tokenizers = [
  ['gpt2', gpt2TokenizerJSON()],
  ['bert-base-uncased', bertTokenizerJSON()],
] as const;

for (const [corpusName, corpus] of Object.entries(corpora) as [keyof typeof corpora, string[]][]) {
  const bytes = corpus.reduce((n, t) => n + Buffer.byteLength(t, 'utf8'), 0);
  console.log(`corpus ${corpusName}: ${corpus.length} texts, ${(bytes / 1e6).toFixed(1)} MB`);
  const batches: string[][] = [];
  for (let i = 0; i < corpus.length; i += BATCH) batches.push(corpus.slice(i, i + BATCH));
  const details = {
    corpus:
      corpusName === 'captions'
        ? 'short mixed English/Chinese captions from emojibase-data'
        : 'long documents, 1-4 KB: English prose (Apache-2.0 text, README), Chinese runs of emojibase zh captions',
    corpusMB: +(bytes / 1e6).toFixed(2),
    texts: corpus.length,
    meanBytesPerText: Math.round(bytes / corpus.length),
    batch: BATCH,
    rounds: ROUNDS,
    cores: cpus().length,
    node: process.version,
    oursThreads: 1,
  };
  for (const [name, json] of tokenizers) {
    const ours = Tokenizer.fromJSON(json);
    const ref = rust.Tokenizer.fromString(JSON.stringify(json));
    const hf = new HfJsTokenizer(json, {});
    const o = await rounds(async () => {
      const t = { tokens: 0, checksum: 0 };
      for (const b of batches)
        tally(
          (ours.encodeBatch(b) as { ids: ArrayLike<number> }[]).map((e) => e.ids),
          t,
        );
      return t;
    });
    const r = await rounds(async () => {
      const t = { tokens: 0, checksum: 0 };
      for (const b of batches)
        tally(
          (await ref.encodeBatch(b)).map((e) => e.getIds()),
          t,
        );
      return t;
    });
    const h =
      corpusName === 'captions'
        ? await rounds(async () => {
            const t = { tokens: 0, checksum: 0 };
            for (const b of batches)
              tally(
                b.map((text) => hf.encode(text).ids),
                t,
              );
            return t;
          })
        : null;
    const p = pythonPeer(json, corpus, o.check);
    for (const [peerName, check] of [
      ['Node binding', r.check],
      ['@huggingface/tokenizers', h?.check],
    ] as const) {
      if (check && (check.tokens !== o.check.tokens || check.checksum !== o.check.checksum)) {
        throw new TesseraError(
          'E_BENCH_PEER',
          `${name} ids differ from ${peerName}'s on ${corpusName}: ${JSON.stringify({ ours: o.check, peer: check })}`,
        );
      }
    }
    const oursRate = spread(o.seconds.map((s) => o.check.tokens / s));
    const peers = [
      ['python', p.seconds, `Python tokenizers ${p.tokenizers} (encode_batch, multi-threaded Rust, ${cpus().length} cores)`],
      ['rust', r.seconds, 'tokenizers@0.23.2 Node binding (Rust, await encodeBatch per batch + getIds)'],
      ...(h ? [['hfjs', h.seconds, '@huggingface/tokenizers@0.2.0 (pure JS, encode per text)'] as const] : []),
    ] as const;
    for (const [suffix, seconds, peerName] of peers) {
      const peerRate = spread(seconds.map((s) => o.check.tokens / s));
      await recordBenchmark({
        benchmark: `tokenizer-encode-${name}${corpusName === 'docs' ? '-docs' : ''}-vs-${suffix}`,
        metric: `encodeBatch throughput, ${name}, ${corpusName === 'docs' ? 'long English/Chinese documents' : 'short captions'}, median of ${ROUNDS}`,
        unit: 'tokens/s',
        ours: oursRate.median,
        peer: peerRate.median,
        peerName,
        higherIsBetter: true,
        backend: 'js, 1 thread',
        details: {
          ...details,
          tokens: o.check.tokens,
          idChecksum: o.check.checksum,
          idsChecked: true,
          tokensPerSecond: { ours: oursRate, peer: peerRate },
        },
      });
    }
  }
}

// Training: 30k byte-level BPE on the same captions.
const file = path.join(dir, 'captions.txt');
writeFileSync(file, corpora.captions.join('\n'));
const trainOurs = performance.now();
const oursVocab = (await trainByteLevelBpe({ files: [file] }, { vocabSize: 30000 })).vocabSize;
const oursSeconds = (performance.now() - trainOurs) / 1000;
const trainPeer = performance.now();
const t = new rust.Tokenizer(rust.BPE.empty());
t.setPreTokenizer(rust.byteLevelPreTokenizer(false, true));
t.train([file]);
const peerSeconds = (performance.now() - trainPeer) / 1000;
rmSync(dir, { recursive: true, force: true });
await recordBenchmark({
  benchmark: 'tokenizer-train-bpe-vs-rust',
  metric: 'train 30k byte-level BPE',
  unit: 's',
  ours: oursSeconds,
  peer: peerSeconds,
  peerName: 'tokenizers@0.23.2 (Rust binding, default BpeTrainer, multithreaded)',
  higherIsBetter: false,
  backend: 'js, 1 thread',
  details: { corpusMB: MB, oursVocab, peerVocab: t.getVocabSize(), runs: 1 },
});
