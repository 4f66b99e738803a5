/** Counts of every n-gram of length 1..n, keyed by the n-gram's tokens joined with a space. */
export function ngramCounts(tokens: readonly string[], n = 4): Map<string, number> {
  const counts = new Map<string, number>();
  for (let k = 1; k <= n; k++) {
    for (let i = 0; i + k <= tokens.length; i++) {
      const key = tokens.slice(i, i + k).join(' ');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return counts;
}

/** The length of an n-gram key made by `ngramCounts`. */
export function ngramOrder(key: string): number {
  let n = 1;
  for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) === 32) n++;
  return n;
}
