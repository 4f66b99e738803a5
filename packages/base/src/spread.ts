/** Median, min, max and p99 of repeated measurements: what every benchmark reports for both sides. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  p99: number;
  count: number;
}

/** Percentiles by linear interpolation, as numpy.percentile does, so Node and Python peers share one definition. */
export function spread(values: readonly number[]): Spread {
  if (values.length === 0) throw new RangeError('spread() needs at least one measurement');
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => {
    const pos = (p / 100) * (sorted.length - 1);
    const lo = Math.floor(pos);
    return (sorted[lo] as number) + ((sorted[Math.ceil(pos)] as number) - (sorted[lo] as number)) * (pos - lo);
  };
  return { median: at(50), min: sorted[0] as number, max: sorted[sorted.length - 1] as number, p99: at(99), count: sorted.length };
}
