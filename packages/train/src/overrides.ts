import { readFile } from 'node:fs/promises';
import { TesseraError } from '@tessera/core';
import { parse as parseYaml } from 'yaml';

/** One `--a.b.c value` flag. */
export interface ConfigOverride {
  path: string[];
  value: unknown;
}

/** A flag's text as a value: JSON when it parses (numbers, booleans, null, arrays, objects), else the string. */
export function parseOverrideValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    const n = Number(text);
    return text.trim() !== '' && Number.isFinite(n) ? n : text;
  }
}

/**
 * Reads `--train.lr 3e-4` and `--train.lr=3e-4` style flags (dotted paths into the config).
 * Returns the overrides and the arguments that are not overrides (positionals, other flags
 * listed in `passThrough` with their values are left for the caller).
 */
export function parseOverrides(
  argv: readonly string[],
  options: { passThrough?: readonly string[] } = {},
): { overrides: ConfigOverride[]; rest: string[] } {
  const passThrough = new Set(options.passThrough ?? []);
  const overrides: ConfigOverride[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const match = /^--([A-Za-z_][\w-]*(?:\.[A-Za-z0-9_][\w-]*)+)(?:=(.*))?$/s.exec(arg);
    if (!match || passThrough.has(arg.split('=')[0] as string)) {
      rest.push(arg);
      continue;
    }
    let text = match[2];
    if (text === undefined) {
      const next = argv[i + 1];
      if (next === undefined || /^--[A-Za-z]/.test(next))
        throw new TesseraError('E_CONFIG', `override ${arg} needs a value (e.g. ${arg} 3e-4)`);
      text = next;
      i += 1;
    }
    overrides.push({ path: (match[1] as string).split('.'), value: parseOverrideValue(text) });
  }
  return { overrides, rest };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Returns a copy of `config` with each override set at its dotted path (intermediate objects
 * are created). Run before validation, so an override of a field that does not exist fails
 * validation with its path.
 */
export function applyOverrides<T>(config: T, overrides: readonly ConfigOverride[]): T {
  const root: unknown = structuredClone(config);
  for (const { path, value } of overrides) {
    if (!isPlainObject(root)) throw new TesseraError('E_CONFIG', 'cannot apply overrides: the config is not an object');
    let node: Record<string, unknown> = root;
    for (const [depth, key] of path.slice(0, -1).entries()) {
      const child = node[key];
      if (child === undefined) node[key] = {};
      else if (!isPlainObject(child)) {
        throw new TesseraError('E_CONFIG', `override --${path.join('.')}: ${path.slice(0, depth + 1).join('.')} is not an object`);
      }
      node = node[key] as Record<string, unknown>;
    }
    node[path[path.length - 1] as string] = value;
  }
  return root as T;
}

/** Reads a YAML (.yaml/.yml) or JSON config file into a plain object (not validated). */
async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new TesseraError('E_IO', `cannot read config file ${path}: ${(error as Error).message}`, { details: { path }, cause: error });
  }
  let value: unknown;
  try {
    value = /\.ya?ml$/i.test(path) ? parseYaml(text) : JSON.parse(text);
  } catch (error) {
    throw new TesseraError(
      'E_CONFIG',
      `config file ${path} is not valid ${/\.ya?ml$/i.test(path) ? 'YAML' : 'JSON'}: ${(error as Error).message}`,
      {
        details: { path },
        cause: error,
      },
    );
  }
  if (!isPlainObject(value))
    throw new TesseraError('E_CONFIG', `config file ${path} must hold an object at the top level`, { details: { path } });
  return value;
}

/**
 * Reads a config file and applies `--a.b value` overrides from `argv` (not validated; validate
 * each section with its schema). Any other argument is an error, so a typo such as
 * `--budgetMinutes` is reported instead of silently ignored.
 */
export async function loadConfigFile(path: string, argv: readonly string[] = []): Promise<Record<string, unknown>> {
  const { overrides, rest } = parseOverrides(argv);
  if (rest.length > 0) {
    throw new TesseraError(
      'E_CONFIG',
      `unknown argument ${rest.join(' ')}: config overrides look like --section.key value (e.g. --train.lr 3e-4)`,
      {
        details: { arguments: rest },
      },
    );
  }
  return applyOverrides(await readConfigFile(path), overrides);
}
