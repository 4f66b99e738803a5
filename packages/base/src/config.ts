import type { z } from 'zod';
import { TesseraError } from './errors.js';

/** The parts of zod's internal definition the key lookup walks. */
interface SchemaDef {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  options?: readonly z.ZodType[];
  element?: z.ZodType;
  items?: readonly z.ZodType[];
  valueType?: z.ZodType;
  left?: z.ZodType;
  right?: z.ZodType;
  getter?: () => z.ZodType;
}

const defOf = (schema: z.ZodType): SchemaDef => (schema as unknown as { _zod: { def: SchemaDef } })._zod.def;

/** The schemas a value at `path` is checked against (several below a union). */
function schemasAt(schema: z.ZodType, path: readonly PropertyKey[]): z.ZodType[] {
  const def = defOf(schema);
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'catch':
    case 'readonly':
    case 'nonoptional':
      return schemasAt(def.innerType as z.ZodType, path);
    case 'lazy':
      return schemasAt((def.getter as () => z.ZodType)(), path);
    case 'pipe':
      // A transform's input is checked by the schema before it (z.preprocess: the one after).
      return schemasAt(defOf(def.in as z.ZodType).type === 'transform' ? (def.out as z.ZodType) : (def.in as z.ZodType), path);
    case 'union':
      return (def.options ?? []).flatMap((o) => schemasAt(o, path));
    case 'intersection':
      return [...schemasAt(def.left as z.ZodType, path), ...schemasAt(def.right as z.ZodType, path)];
  }
  if (path.length === 0) return [schema];
  const [head, ...rest] = path;
  switch (def.type) {
    case 'object': {
      const child = def.shape?.[String(head)];
      return child ? schemasAt(child, rest) : [];
    }
    case 'array':
      return schemasAt(def.element as z.ZodType, rest);
    case 'tuple': {
      const item = def.items?.[Number(head)];
      return item ? schemasAt(item, rest) : [];
    }
    case 'record':
      return schemasAt(def.valueType as z.ZodType, rest);
    default:
      return [];
  }
}

/** The keys an object at `path` of `schema` may have. */
function configKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  const keys = schemasAt(schema, path).flatMap((s) => Object.keys(defOf(s).shape ?? {}));
  return [...new Set(keys)];
}

/** Levenshtein distance, case-insensitive (so `batchsize` is 0 from `batchSize`). */
function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let previous = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const row = [i];
    for (let j = 1; j <= y.length; j++) {
      row[j] = Math.min(
        (previous[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (previous[j - 1] as number) + (x[i - 1] === y[j - 1] ? 0 : 1),
      );
    }
    previous = row;
  }
  return previous[y.length] as number;
}

/** The valid name closest to a mistyped one, if one is close enough to be what was meant. */
export function nearestName(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const d = editDistance(name, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(1, Math.round(name.length * 0.4)) ? best : undefined;
}

/** `unknown key train.batchSise — did you mean batchSize?`, or the valid keys when none is close. */
function unknownKeyMessage(schema: z.ZodType, path: readonly PropertyKey[], key: string): string {
  const valid = configKeysAt(schema, path);
  const where = [...path.map(String), key].join('.');
  const nearest = nearestName(key, valid);
  if (nearest !== undefined) return `unknown key ${where} — did you mean ${nearest}?`;
  return valid.length > 0 ? `unknown key ${where} (valid keys: ${valid.join(', ')})` : `unknown key ${where}`;
}

type Issue = z.core.$ZodIssue;

/** A branch of a union that failed only because the value is of another kind (a string for an object). */
const wrongKind = (branch: readonly Issue[]) =>
  branch.every((i) => i.path.length === 0 && (i.code === 'invalid_type' || i.code === 'invalid_value'));

/**
 * The issues with absolute paths; a failed union is replaced by the issues of the branch the
 * value was meant for (the one it has the kind of, fewest issues first), so `model.vision.numLayer`
 * is reported instead of "model: Invalid input".
 */
function flattenIssues(issues: readonly Issue[], base: readonly PropertyKey[] = []): { issue: Issue; path: PropertyKey[] }[] {
  return issues.flatMap((issue) => {
    const path = [...base, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const branches = issue.errors.filter((b) => !wrongKind(b));
      const meant = branches.reduce<readonly Issue[] | undefined>(
        (best, b) => (best === undefined || b.length < best.length ? b : best),
        undefined,
      );
      if (meant !== undefined) return flattenIssues(meant, path);
    }
    return [{ issue, path }];
  });
}

/**
 * Validates `value` against a zod schema and throws a TesseraError naming the path of
 * every bad field (`model.layers: expected number, received string`); an unknown key of a
 * strict object names the valid key closest to it (`unknown key train.batchSise — did you
 * mean batchSize?`).
 */
export function parseConfig<S extends z.ZodType>(schema: S, value: unknown, what = 'config'): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = flattenIssues(result.error.issues).flatMap(({ issue, path }) => {
    if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => unknownKeyMessage(schema, path, key));
    return [`${path.length > 0 ? path.join('.') : '(root)'}: ${issue.message}`];
  });
  throw new TesseraError('E_CONFIG', `Invalid ${what}:\n  ${problems.join('\n  ')}`, {
    details: { issues: result.error.issues },
  });
}
