import { parseConfig, TesseraError, tf } from '@tessera/core';
import { z } from 'zod';
import { type Decoder, type DecoderCache, disposeCache } from '../decoder/decoder.js';
import { RngSchema } from '../init.js';
import { applyRepetitionPenalty, applyTemperature, applyTopK, applyTopP, argmax, logSoftmax, softmax } from './logitsProcessors.js';

export const GenerateConfigSchema = z
  .object({
    strategy: z.enum(['greedy', 'beam', 'sample']).default('greedy'),
    bosTokenId: z.number().int().nonnegative(),
    eosTokenId: z.number().int().nonnegative(),
    /** Fed to (and returned for) nothing: finished rows are trimmed at EOS. Defaults to eosTokenId. */
    padTokenId: z.number().int().nonnegative().optional(),
    maxNewTokens: z.number().int().positive().default(20),
    /** EOS is forbidden until this many tokens are generated. */
    minNewTokens: z.number().int().nonnegative().default(0),
    numBeams: z.number().int().positive().default(4),
    /** Beam scores are sum(log p) / length^lengthPenalty (length counts generated tokens, EOS included). */
    lengthPenalty: z.number().default(1),
    temperature: z.number().positive().default(1),
    /** 0 = off */
    topK: z.number().int().nonnegative().default(0),
    topP: z.number().gt(0).max(1).default(1),
    /** > 1 discourages tokens already in the sequence (Hugging Face's rule). */
    repetitionPenalty: z.number().positive().default(1),
    /** Only these token ids (and EOS) may be generated, e.g. the words of one output language. */
    allowedTokenIds: z.array(z.number().int().nonnegative()).min(1).optional(),
    /** Required for 'sample'. */
    rng: RngSchema.optional(),
  })
  .strict()
  .refine((c) => c.strategy !== 'sample' || c.rng !== undefined, { message: "strategy 'sample' needs rng (a SeededRandom)", path: ['rng'] })
  .refine((c) => c.minNewTokens <= c.maxNewTokens, { message: 'minNewTokens must be <= maxNewTokens', path: ['minNewTokens'] });
/**
 * Settings of `generate`, as in transformers' GenerationConfig: `bosTokenId` and `eosTokenId`
 * (required); `strategy` 'greedy' (default), 'beam' (`numBeams` 4, `lengthPenalty`) or 'sample'
 * (`temperature`, `topK`, `topP`; needs `rng`); `maxNewTokens` (default 20). E_CONFIG when invalid.
 */
export type GenerateConfig = z.input<typeof GenerateConfigSchema>;

/**
 * What `generate` conditions on. The batch size is the first given of `encoderStates`,
 * `prefix`, `prompts` and `batchSize`.
 */
export interface GenerateInputs {
  /** [B, N, crossDim] for a decoder with cross-attention. */
  encoderStates?: tf.Tensor;
  /** [B, N] 1 = encoder token, 0 = padding. */
  encoderMask?: tf.Tensor;
  /** [B, P, dim] prefix states of a prefix LM (GIT's image tokens), fed once before the prompt (see DecoderOptions.prefix). */
  prefix?: tf.Tensor;
  /** Equal-length token prefixes per sequence (default: [bos] each). */
  prompts?: number[][];
  /** Batch size when there are neither encoder states nor prompts (default 1). */
  batchSize?: number;
}

/** What `generate` returns: one entry per input row. */
export interface GenerateResult {
  /** Generated ids per input (prompt excluded), ending with EOS when it was produced. */
  sequences: number[][];
  /** Beam: the length-normalised score of the chosen hypothesis; greedy/sample: sum of log-probabilities (after processing). */
  scores: number[];
}

type Settings = z.output<typeof GenerateConfigSchema>;
/** The parsed settings plus the ids that `allowedTokenIds` rules out (null: none). */
type Config = Settings & { blocked: Uint8Array | null };

/**
 * Autoregressive generation with the decoder's key/value cache: greedy, beam search, or
 * top-k / top-p sampling with temperature; repetition penalty, min/max new tokens, EOS stop,
 * batched. Synchronous: the wasm backend computes eagerly.
 */
export function generate(decoder: Decoder, inputs: GenerateInputs, config: GenerateConfig): GenerateResult {
  const settings = parseConfig(GenerateConfigSchema, config, 'generate config');
  const c: Config = { ...settings, blocked: blockedTokens(settings, decoder.config.vocabSize) };
  const batch = inputs.encoderStates?.shape[0] ?? inputs.prefix?.shape[0] ?? inputs.prompts?.length ?? inputs.batchSize ?? 1;
  const prompts = inputs.prompts ?? Array.from({ length: batch }, () => [c.bosTokenId]);
  const promptLength = prompts[0]?.length ?? 0;
  if (prompts.length !== batch || promptLength === 0 || prompts.some((p) => p.length !== promptLength)) {
    throw new TesseraError('E_INPUT', `generate: prompts must be ${batch} non-empty sequences of equal length (left-trim or bucket them)`);
  }
  if (promptLength + c.maxNewTokens > decoder.config.maxPositions) {
    throw new TesseraError(
      'E_CONFIG',
      `generate: prompt (${promptLength}) + maxNewTokens (${c.maxNewTokens}) exceeds the decoder's maxPositions (${decoder.config.maxPositions})`,
    );
  }
  return c.strategy === 'beam' ? beamSearch(decoder, inputs, prompts, c) : sampleOrGreedy(decoder, inputs, prompts, c);
}

/** Runs the decoder on `ids` [N, S] with the cache; returns the last position's logits per row and the new cache. */
class Stepper {
  cache: DecoderCache | undefined;
  readonly vocab: number;

  constructor(
    private readonly decoder: Decoder,
    private readonly encoderStates: tf.Tensor | undefined,
    private readonly encoderMask: tf.Tensor | undefined,
    private readonly prefix: tf.Tensor | undefined,
  ) {
    this.vocab = decoder.config.vocabSize;
  }

  step(tokens: number[][]): Float32Array[] {
    const rows = tokens.length;
    const length = tokens[0]?.length ?? 0;
    const ids = tf.tensor(Int32Array.from(tokens.flat()), [rows, length], 'int32');
    const out = this.decoder.forward(ids, {
      encoderStates: this.encoderStates,
      encoderMask: this.encoderMask,
      prefix: this.cache ? undefined : this.prefix,
      cache: this.cache,
      useCache: true,
    });
    const last = tf.slice(out.logits, [0, length - 1, 0], [rows, 1, this.vocab]);
    const values = last.dataSync() as Float32Array;
    tf.dispose([ids, out.logits, out.hidden, last]);
    disposeCache(this.cache, out.cache);
    this.cache = out.cache;
    return Array.from({ length: rows }, (_, r) => values.slice(r * this.vocab, (r + 1) * this.vocab));
  }

  /** Makes row r of the self-attention cache a copy of row sources[r] (beam reordering). */
  reorder(sources: number[]): void {
    if (!this.cache) return;
    if (sources.every((s, i) => s === i)) return;
    const index = tf.tensor1d(Int32Array.from(sources), 'int32');
    for (const layer of this.cache.layers) {
      const old = layer.self;
      layer.self = { key: tf.gather(old.key, index, 0), value: tf.gather(old.value, index, 0) };
      tf.dispose([old.key, old.value]);
    }
    index.dispose();
  }

  dispose(): void {
    disposeCache(this.cache);
    this.cache = undefined;
  }
}

function blockedTokens(c: Settings, vocabSize: number): Uint8Array | null {
  if (c.allowedTokenIds === undefined) return null;
  const outside = c.allowedTokenIds.find((id) => id >= vocabSize);
  if (outside !== undefined)
    throw new TesseraError('E_CONFIG', `generate: allowedTokenIds has ${outside}, outside the vocabulary of ${vocabSize}`);
  // Until minNewTokens are out EOS is ruled out too, so some other token must be allowed.
  if (c.minNewTokens > 0 && c.allowedTokenIds.every((id) => id === c.eosTokenId))
    throw new TesseraError(
      'E_CONFIG',
      `generate: allowedTokenIds allows only EOS (${c.eosTokenId}), but minNewTokens ${c.minNewTokens} rules EOS out first: nothing can be generated`,
    );
  const blocked = new Uint8Array(vocabSize).fill(1);
  for (const id of [...c.allowedTokenIds, c.eosTokenId]) blocked[id] = 0;
  return blocked;
}

function processRow(row: Float32Array, history: number[], generated: number, c: Config): void {
  if (c.blocked) for (let v = 0; v < row.length; v++) if (c.blocked[v]) row[v] = Number.NEGATIVE_INFINITY;
  applyRepetitionPenalty(row, history, c.repetitionPenalty);
  if (generated < c.minNewTokens) row[c.eosTokenId] = Number.NEGATIVE_INFINITY;
}

function sampleOrGreedy(decoder: Decoder, inputs: GenerateInputs, prompts: number[][], c: Config): GenerateResult {
  const batch = prompts.length;
  const stepper = new Stepper(decoder, inputs.encoderStates, inputs.encoderMask, inputs.prefix);
  const pad = c.padTokenId ?? c.eosTokenId;
  const sequences: number[][] = prompts.map(() => []);
  const scores = new Array<number>(batch).fill(0);
  const finished = new Array<boolean>(batch).fill(false);
  try {
    let rows = stepper.step(prompts);
    for (let t = 0; t < c.maxNewTokens; t++) {
      const next: number[][] = [];
      for (let b = 0; b < batch; b++) {
        if (finished[b]) {
          next.push([pad]);
          continue;
        }
        const row = rows[b] as Float32Array;
        processRow(row, [...(prompts[b] as number[]), ...(sequences[b] as number[])], t, c);
        let token: number;
        if (c.strategy === 'greedy') token = argmax(row);
        else {
          applyTemperature(row, c.temperature);
          applyTopK(row, c.topK);
          applyTopP(row, c.topP);
          token = sampleFrom(softmax(row), c);
        }
        scores[b] = (scores[b] as number) + (logSoftmax(row)[token] as number);
        (sequences[b] as number[]).push(token);
        if (token === c.eosTokenId) finished[b] = true;
        next.push([token]);
      }
      if (finished.every(Boolean) || t === c.maxNewTokens - 1) break;
      rows = stepper.step(next);
    }
  } finally {
    stepper.dispose();
  }
  return { sequences, scores };
}

function sampleFrom(probs: Float64Array, c: Config): number {
  const u = (c.rng as NonNullable<Config['rng']>).next();
  let cumulative = 0;
  let last = 0;
  for (let i = 0; i < probs.length; i++) {
    if ((probs[i] as number) <= 0) continue;
    last = i;
    cumulative += probs[i] as number;
    if (u < cumulative) return i;
  }
  return last;
}

interface Hypothesis {
  tokens: number[];
  score: number;
}

function beamSearch(decoder: Decoder, inputs: GenerateInputs, prompts: number[][], c: Config): GenerateResult {
  const batch = prompts.length;
  const beams = c.numBeams;
  const rowsN = batch * beams;
  const pad = c.padTokenId ?? c.eosTokenId;
  const normalise = (sum: number, length: number) => sum / length ** c.lengthPenalty;
  // Every beam of item b attends to item b's encoder states.
  const expand = (t: tf.Tensor | undefined) =>
    t
      ? tf.gather(
          t,
          tf.tensor1d(
            Int32Array.from({ length: rowsN }, (_, r) => Math.floor(r / beams)),
            'int32',
          ),
          0,
        )
      : undefined;
  const [encoderStates, encoderMask, prefix] = tf.tidy(() => [
    expand(inputs.encoderStates),
    expand(inputs.encoderMask),
    expand(inputs.prefix),
  ]);
  const stepper = new Stepper(decoder, encoderStates, encoderMask, prefix);
  const running: number[][] = Array.from({ length: rowsN }, () => []);
  // Only the first beam of each item is live at the start, so the first step picks distinct tokens.
  const beamScores = Float64Array.from({ length: rowsN }, (_, r) => (r % beams === 0 ? 0 : Number.NEGATIVE_INFINITY));
  const hypotheses: Hypothesis[][] = Array.from({ length: batch }, () => []);
  const done = new Array<boolean>(batch).fill(false);
  const addHypothesis = (b: number, tokens: number[], sum: number) => {
    const list = hypotheses[b] as Hypothesis[];
    list.push({ tokens, score: normalise(sum, tokens.length) });
    list.sort((x, y) => y.score - x.score);
    if (list.length > beams) list.pop();
  };
  try {
    let rows = stepper.step(prompts.flatMap((p) => Array.from({ length: beams }, () => p)));
    for (let t = 1; t <= c.maxNewTokens; t++) {
      const sources = Array.from({ length: rowsN }, (_, r) => r);
      const nextTokens = new Array<number>(rowsN).fill(pad);
      const nextRunning: number[][] = running.map((s) => s);
      const nextScores = Float64Array.from(beamScores);
      for (let b = 0; b < batch; b++) {
        if (done[b]) continue;
        const candidates: { row: number; token: number; score: number }[] = [];
        for (let k = 0; k < beams; k++) {
          const r = b * beams + k;
          if (beamScores[r] === Number.NEGATIVE_INFINITY) continue;
          const row = rows[r] as Float32Array;
          processRow(row, [...(prompts[b] as number[]), ...(running[r] as number[])], t - 1, c);
          const logp = logSoftmax(row);
          for (let v = 0; v < logp.length; v++) {
            const score = (beamScores[r] as number) + (logp[v] as number);
            if (score > Number.NEGATIVE_INFINITY) candidates.push({ row: r, token: v, score });
          }
        }
        candidates.sort((x, y) => y.score - x.score);
        let filled = 0;
        for (let rank = 0; rank < candidates.length && rank < 2 * beams && filled < beams; rank++) {
          const cand = candidates[rank] as { row: number; token: number; score: number };
          if (cand.token === c.eosTokenId) {
            if (rank < beams) addHypothesis(b, [...(running[cand.row] as number[]), cand.token], cand.score);
            continue;
          }
          const r = b * beams + filled;
          sources[r] = cand.row;
          nextTokens[r] = cand.token;
          nextRunning[r] = [...(running[cand.row] as number[]), cand.token];
          nextScores[r] = cand.score;
          filled++;
        }
        for (let k = filled; k < beams; k++) nextScores[b * beams + k] = Number.NEGATIVE_INFINITY;
        const list = hypotheses[b] as Hypothesis[];
        if (list.length >= beams && filled > 0) {
          // The best any live beam can still reach (log-probabilities only fall as it grows).
          const best = nextScores[b * beams] as number;
          const attainable = c.lengthPenalty > 0 ? best / c.maxNewTokens ** c.lengthPenalty : normalise(best, t);
          if ((list[list.length - 1] as Hypothesis).score >= attainable) done[b] = true;
        }
        if (filled === 0) done[b] = true;
      }
      for (let r = 0; r < rowsN; r++) {
        running[r] = nextRunning[r] as number[];
        beamScores[r] = nextScores[r] as number;
      }
      if (done.every(Boolean) || t === c.maxNewTokens) break;
      stepper.reorder(sources);
      rows = stepper.step(nextTokens.map((tok) => [tok]));
    }
    for (let b = 0; b < batch; b++) {
      if (done[b]) continue;
      for (let k = 0; k < beams; k++) {
        const r = b * beams + k;
        if (beamScores[r] !== Number.NEGATIVE_INFINITY) addHypothesis(b, running[r] as number[], beamScores[r] as number);
      }
    }
  } finally {
    stepper.dispose();
    tf.dispose([encoderStates, encoderMask, prefix].filter((t): t is tf.Tensor => t !== undefined));
  }
  const best = hypotheses.map((list, b) => {
    // Every candidate scored -Infinity or NaN (the decoder's logits were not finite).
    if (list.length === 0) throw new TesseraError('E_INPUT', `generate: beam search found no finite-scoring sequence for item ${b}`);
    return list[0] as Hypothesis;
  });
  return { sequences: best.map((h) => h.tokens), scores: best.map((h) => h.score) };
}
