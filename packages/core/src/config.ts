import type { z } from 'zod';
import { TesseraError } from './errors.js';

/**
 * Validates `value` against a zod schema and throws a TesseraError naming the path of
 * every bad field (`model.layers: expected number, received string`).
 */
export function parseConfig<S extends z.ZodType>(schema: S, value: unknown, what = 'config'): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const path = issue.path.length > 0 ? issue.path.join('.') : '(root)';
    return `${path}: ${issue.message}`;
  });
  throw new TesseraError('E_CONFIG', `Invalid ${what}:\n  ${problems.join('\n  ')}`, {
    details: { issues: result.error.issues },
  });
}
