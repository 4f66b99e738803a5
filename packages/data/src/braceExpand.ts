/**
 * Expands WebDataset shard patterns the way Python's `braceexpand` (which webdataset uses)
 * does: `{a,b}` alternatives, `{0..9}` and `{a..e}` ranges with an optional `..step`, nested
 * braces, and several groups giving their product left to right. A number range is
 * zero-padded to the wider end when either end has a leading zero: `{00008..00010}` ->
 * 00008, 00009, 00010. Braces that hold neither a range nor a comma stay as written.
 */
export function braceExpand(pattern: string): string[] {
  for (let open = pattern.indexOf('{'); open >= 0; open = pattern.indexOf('{', open + 1)) {
    const close = matchingBrace(pattern, open);
    if (close < 0) break;
    const inner = pattern.slice(open + 1, close);
    const parts = expandRange(inner) ?? alternatives(inner);
    if (parts === null) continue;
    const head = pattern.slice(0, open);
    const tails = braceExpand(pattern.slice(close + 1));
    return parts.flatMap((part) => tails.map((tail) => head + part + tail));
  }
  return [pattern];
}

function matchingBrace(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    if (s[i] === '{') depth++;
    else if (s[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

/** `a,b{c,d}` -> a, bc, bd; null without a top-level comma. */
function alternatives(inner: string): string[] | null {
  const items: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < inner.length; i++) {
    if (inner[i] === '{') depth++;
    else if (inner[i] === '}') depth--;
    else if (inner[i] === ',' && depth === 0) {
      items.push(inner.slice(start, i));
      start = i + 1;
    }
  }
  if (items.length === 0) return null;
  items.push(inner.slice(start));
  return items.flatMap((item) => braceExpand(item));
}

function expandRange(inner: string): string[] | null {
  const num = /^(-?\d+)\.\.(-?\d+)(?:\.\.(-?\d+))?$/.exec(inner);
  if (num) {
    const [, left, right, incr] = num as unknown as [string, string, string, string | undefined];
    const padded = [left, right].some((s) => s !== '0' && s !== '-0' && (s.startsWith('0') || s.startsWith('-0')));
    const width = padded ? Math.max(left.length, right.length) : 0;
    return steps(Number(left), Number(right), incr).map((n) =>
      n < 0 ? `-${String(-n).padStart(width - 1, '0')}` : String(n).padStart(width, '0'),
    );
  }
  const chars = /^([A-Za-z])\.\.([A-Za-z])(?:\.\.(-?\d+))?$/.exec(inner);
  if (chars) {
    const [, left, right, incr] = chars as unknown as [string, string, string, string | undefined];
    return steps(left.charCodeAt(0), right.charCodeAt(0), incr).map((c) => String.fromCharCode(c));
  }
  return null;
}

/** start..end inclusive, counting down when end < start; a step of 0 counts as 1 (braceexpand). */
function steps(start: number, end: number, incr: string | undefined): number[] {
  const step = Math.abs(Number(incr ?? 1)) || 1;
  const out: number[] = [];
  if (start <= end) for (let n = start; n <= end; n += step) out.push(n);
  else for (let n = start; n >= end; n -= step) out.push(n);
  return out;
}
