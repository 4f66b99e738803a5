/** How a split treats the delimiter it found (Hugging Face `SplitDelimiterBehavior`). */
export type SplitBehavior = 'Removed' | 'Isolated' | 'MergedWithPrevious' | 'MergedWithNext' | 'Contiguous';

export const SPLIT_BEHAVIORS: readonly SplitBehavior[] = ['Removed', 'Isolated', 'MergedWithPrevious', 'MergedWithNext', 'Contiguous'];

/**
 * Turns the pieces of a span — `parts` holds (start, end, isMatch) triples covering it in
 * order — into output spans by `behavior`, as Hugging Face's `NormalizedString::split`.
 * Empty spans are dropped.
 */
export function applyBehavior(parts: number[], behavior: SplitBehavior, out: number[]): void {
  const n = parts.length;
  const push = (a: number, b: number) => {
    if (b > a) out.push(a, b);
  };
  switch (behavior) {
    case 'Removed':
      for (let i = 0; i < n; i += 3) if (parts[i + 2] === 0) push(parts[i], parts[i + 1]);
      return;
    case 'Isolated':
      for (let i = 0; i < n; i += 3) push(parts[i], parts[i + 1]);
      return;
    case 'MergedWithPrevious':
    case 'Contiguous': {
      const acc: number[] = [];
      let prevMatch = false;
      for (let i = 0; i < n; i += 3) {
        const isMatch = parts[i + 2] === 1;
        const merge = behavior === 'Contiguous' ? isMatch === prevMatch : isMatch && !prevMatch;
        if (merge && acc.length > 0) acc[acc.length - 1] = parts[i + 1];
        else acc.push(parts[i], parts[i + 1]);
        prevMatch = isMatch;
      }
      for (let i = 0; i < acc.length; i += 2) push(acc[i], acc[i + 1]);
      return;
    }
    case 'MergedWithNext': {
      const acc: number[] = [];
      let prevMatch = false;
      for (let i = n - 3; i >= 0; i -= 3) {
        const isMatch = parts[i + 2] === 1;
        if (isMatch && !prevMatch && acc.length > 0) acc[acc.length - 2] = parts[i];
        else acc.push(parts[i], parts[i + 1]);
        prevMatch = isMatch;
      }
      for (let i = acc.length - 2; i >= 0; i -= 2) push(acc[i], acc[i + 1]);
      return;
    }
  }
}

/** Splits spans on every code point for which `pred` holds (each such code point is one match). */
export function splitByPredicate(text: string, spans: number[], pred: (cp: number) => boolean, behavior: SplitBehavior): number[] {
  const out: number[] = [];
  const parts: number[] = [];
  for (let k = 0; k < spans.length; k += 2) {
    const a = spans[k];
    const b = spans[k + 1];
    parts.length = 0;
    let from = a;
    for (let i = a; i < b; ) {
      const cp = text.codePointAt(i)!;
      const len = cp > 0xffff ? 2 : 1;
      if (pred(cp)) {
        if (i > from) parts.push(from, i, 0);
        parts.push(i, i + len, 1);
        from = i + len;
      }
      i += len;
    }
    if (b > from) parts.push(from, b, 0);
    applyBehavior(parts, behavior, out);
  }
  return out;
}

/** Splits spans on the matches of a global regex (`invert`: the matches are the kept pieces). */
export function splitByRegex(text: string, spans: number[], re: RegExp, behavior: SplitBehavior, invert = false): number[] {
  const out: number[] = [];
  const parts: number[] = [];
  const m = invert ? 0 : 1;
  for (let k = 0; k < spans.length; k += 2) {
    const a = spans[k];
    const b = spans[k + 1];
    const sub = a === 0 && b === text.length ? text : text.slice(a, b);
    parts.length = 0;
    let from = 0;
    re.lastIndex = 0;
    for (let match = re.exec(sub); match !== null; match = re.exec(sub)) {
      const start = match.index;
      const end = start + match[0].length;
      if (end === start) {
        re.lastIndex++;
        continue;
      }
      if (start > from) parts.push(a + from, a + start, 1 - m);
      parts.push(a + start, a + end, m);
      from = end;
    }
    if (sub.length > from) parts.push(a + from, b, 1 - m);
    applyBehavior(parts, behavior, out);
  }
  return out;
}
