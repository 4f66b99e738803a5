/**
 * Logit processing for generation, on one row of logits (a Float32Array over the vocabulary),
 * following Hugging Face transformers' processors. Each function edits `row` in place.
 */

/** HF RepetitionPenaltyLogitsProcessor: for tokens already generated, divide positive logits by `penalty`, multiply negative ones. */
export function applyRepetitionPenalty(row: Float32Array, previous: Iterable<number>, penalty: number): void {
  if (penalty === 1) return;
  for (const id of new Set(previous)) {
    const v = row[id] as number;
    row[id] = v < 0 ? v * penalty : v / penalty;
  }
}

/** HF TemperatureLogitsWarper: divides every logit by `temperature` (< 1 sharpens the distribution, > 1 flattens it). */
export function applyTemperature(row: Float32Array, temperature: number): void {
  if (temperature === 1) return;
  for (let i = 0; i < row.length; i++) row[i] = (row[i] as number) / temperature;
}

/** Keeps the `k` largest logits (ties at the k-th value kept too), sets the rest to -Infinity. */
export function applyTopK(row: Float32Array, k: number): void {
  if (k <= 0 || k >= row.length) return;
  const threshold = Float32Array.from(row).sort((a, b) => b - a)[k - 1] as number;
  for (let i = 0; i < row.length; i++) if ((row[i] as number) < threshold) row[i] = Number.NEGATIVE_INFINITY;
}

/**
 * Nucleus filtering: keeps the smallest set of most likely tokens whose probabilities sum to at
 * least `p` (always at least one), sets the rest to -Infinity.
 */
export function applyTopP(row: Float32Array, p: number): void {
  if (p >= 1) return;
  const probs = softmax(row);
  const order = Array.from(row.keys()).sort((a, b) => (probs[b] as number) - (probs[a] as number));
  let cumulative = 0;
  let kept = 0;
  for (const id of order) {
    if (kept > 0 && cumulative >= p) row[id] = Number.NEGATIVE_INFINITY;
    else kept++;
    cumulative += probs[id] as number;
  }
}

/** Probabilities of a logit row in float64, max-subtracted for stability (-Infinity gives 0); `row` is not changed. */
export function softmax(row: Float32Array): Float64Array {
  let max = Number.NEGATIVE_INFINITY;
  for (const v of row) if (v > max) max = v;
  const out = new Float64Array(row.length);
  let sum = 0;
  for (let i = 0; i < row.length; i++) {
    const e = Math.exp((row[i] as number) - max);
    out[i] = e;
    sum += e;
  }
  for (let i = 0; i < row.length; i++) out[i] = (out[i] as number) / sum;
  return out;
}

/** Log-probabilities of a logit row in float64, row - logsumexp(row) computed stably; `row` is not changed. */
export function logSoftmax(row: Float32Array): Float64Array {
  let max = Number.NEGATIVE_INFINITY;
  for (const v of row) if (v > max) max = v;
  let sum = 0;
  for (const v of row) sum += Math.exp(v - max);
  const logZ = max + Math.log(sum);
  return Float64Array.from(row, (v) => v - logZ);
}

/** Index of the largest value, the first on ties (as torch.argmax): greedy decoding's pick. */
export function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if ((row[i] as number) > (row[best] as number)) best = i;
  return best;
}
