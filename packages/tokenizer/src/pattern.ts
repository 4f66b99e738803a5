import { asObject, badField, type JsonObject } from './json.js';
import { ONIG_WORD } from './unicode.js';

/** A tokenizer.json pattern: a literal string or a regular expression. */
export type Pattern = { String: string } | { Regex: string };

/** The pattern as a global Unicode RegExp (literals escaped, Oniguruma classes translated). */
export function patternRegExp(p: Pattern): RegExp {
  return new RegExp('String' in p ? p.String.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&') : onigToJs(p.Regex), 'gu');
}

const WORD_BODY = ONIG_WORD;

/**
 * Hugging Face compiles patterns with Oniguruma, whose `\s`, `\w` and `\d` are Unicode-aware;
 * JavaScript's are not (and its `\s` adds U+FEFF). Rewrites them to Unicode properties, and
 * case-insensitive groups `(?i:...)` (GPT-4/Llama 3 patterns; Node 20 lacks them) to letter classes,
 * and drops the backslash of escaped punctuation that a 'u' RegExp refuses (`\!`, `\#`, as written by
 * Python's re.escape, e.g. SigLIP's punctuation class).
 */
export function onigToJs(source: string): string {
  const out: string[] = [];
  let inClass = false;
  // Paren depth of each open (?i: group; letters inside match both cases.
  const caseless: number[] = [];
  let depth = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\' && i + 1 < source.length) {
      const n = source[i + 1];
      i++;
      if (n === 's') out.push('\\p{White_Space}');
      else if (n === 'S') out.push('\\P{White_Space}');
      else if (n === 'd') out.push('\\p{Nd}');
      else if (n === 'D') out.push('\\P{Nd}');
      else if (n === 'w') out.push(inClass ? WORD_BODY : `[${WORD_BODY}]`);
      else if (n === 'W' && !inClass) out.push(`[^${WORD_BODY}]`);
      else if (needsNoEscape(n as string, inClass)) out.push(n as string);
      else out.push(c, n);
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      out.push(c);
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === '(') {
      depth++;
      if (source.startsWith('(?i:', i)) {
        caseless.push(depth);
        out.push('(?:');
        i += 3;
        continue;
      }
    } else if (c === ')') {
      if (caseless.at(-1) === depth) caseless.pop();
      depth--;
    } else if (caseless.length > 0 && /[a-zA-Z]/.test(c)) {
      out.push(`[${c.toLowerCase()}${c.toUpperCase()}]`);
      continue;
    }
    out.push(c);
  }
  return out.join('');
}

/** ASCII punctuation that is literal when unescaped: everything but the RegExp syntax characters (and '-' in a class). */
function needsNoEscape(c: string, inClass: boolean): boolean {
  return /^[!-/:-@[-`{-~]$/.test(c) && !'^$\\.*+?()[]{}|/'.includes(c) && !(inClass && c === '-');
}

/** Reads `obj.pattern`; a regex that JavaScript cannot compile is reported as a bad field. */
export function patternFromJSON(obj: JsonObject, path: string): { pattern: Pattern; re: RegExp } {
  const o = asObject(obj.pattern, `${path}.pattern`);
  const pattern: Pattern | null =
    typeof o.String === 'string' ? { String: o.String } : typeof o.Regex === 'string' ? { Regex: o.Regex } : null;
  if (pattern === null) throw badField(`${path}.pattern`, 'must be {"String": "..."} or {"Regex": "..."}');
  try {
    return { pattern, re: patternRegExp(pattern) };
  } catch (e) {
    throw badField(`${path}.pattern.Regex`, `is not a valid regular expression (${(e as Error).message})`);
  }
}
