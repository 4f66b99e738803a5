import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// What `npm i @tessera/tokenizer` or `npm i @tessera/eval` installs: the production dependency
// closure (dependencies, required peers and optionals) as the package.json files declare it,
// resolved the way Node resolves a bare name (the nearest node_modules up from the dependent,
// workspace links followed to their package). Someone who only tokenizes or scores must get no
// tensor library.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

/** The directory of `name` as seen from a package at `fromDir`, or null where npm did not install it. */
function resolvePackage(name: string, fromDir: string): string | null {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return realpathSync(candidate);
    if (path.dirname(dir) === dir) return null;
  }
}

function readManifest(dir: string): Manifest {
  return JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
}

/** Names of every package `packageDir` pulls in at run time (itself excluded). */
function productionClosure(packageDir: string): Set<string> {
  const seen = new Set<string>();
  const visited = new Set<string>([realpathSync(packageDir)]);
  const queue = [realpathSync(packageDir)];
  while (queue.length > 0) {
    const dir = queue.shift() as string;
    const manifest = readManifest(dir);
    // npm 7+ installs peer dependencies too (not those marked optional), so they are part of what `npm i` brings in.
    const peers = Object.keys(manifest.peerDependencies ?? {}).filter((name) => !manifest.peerDependenciesMeta?.[name]?.optional);
    const required = [...Object.keys(manifest.dependencies ?? {}), ...peers];
    const optional = Object.keys(manifest.optionalDependencies ?? {});
    for (const name of [...required, ...optional]) {
      seen.add(name);
      const found = resolvePackage(name, dir);
      if (found === null) {
        // An optional dependency npm skipped on this platform is still part of what it may install.
        if (optional.includes(name)) continue;
        throw new Error(`${manifest.name} depends on ${name}, which is not installed`);
      }
      if (!visited.has(found)) {
        visited.add(found);
        queue.push(found);
      }
    }
  }
  return seen;
}

/** Bare package names imported by the shipped (non-test, non-bench) sources under `src`. */
function importedPackages(packageDir: string): Set<string> {
  const names = new Set<string>();
  const files = readdirSync(path.join(packageDir, 'src'), { recursive: true, encoding: 'utf8' });
  for (const file of files) {
    if (!file.endsWith('.ts') || /\.(test|bench)\.ts$/.test(file) || file.split(path.sep).includes('bench')) continue;
    const source = readFileSync(path.join(packageDir, 'src', file), 'utf8');
    for (const [, spec] of source.matchAll(/(?:from|import\()\s*'([^'.][^']*)'/g)) {
      // '#files' and the like are the package's own subpath imports (its package.json `imports`), not packages.
      if (spec.startsWith('node:') || spec.startsWith('#')) continue;
      const parts = spec.split('/');
      names.add(spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]);
    }
  }
  return names;
}

const tensorPackages = (names: Set<string>) => [...names].filter((n) => n.startsWith('@tensorflow/') || n === '@tessera/core');

describe('production dependency closures', () => {
  it('@tessera/tokenizer installs no tensor library', () => {
    const closure = productionClosure(path.join(ROOT, 'packages/tokenizer'));
    expect(tensorPackages(closure)).toEqual([]);
    for (const used of ['@tessera/base', 'zod', 'cli-progress', 'commander']) expect(closure).toContain(used);
  });

  it('@tessera/eval installs no tensor library', () => {
    const closure = productionClosure(path.join(ROOT, 'packages/eval'));
    expect(tensorPackages(closure)).toEqual([]);
    for (const used of ['@tessera/base', 'zod', 'cli-progress']) expect(closure).toContain(used);
  });

  it('the tokenizer and eval sources import only what their package.json declares', () => {
    for (const pkg of ['tokenizer', 'eval']) {
      const dir = path.join(ROOT, 'packages', pkg);
      const declared = Object.keys(readManifest(dir).dependencies ?? {});
      const imported = [...importedPackages(dir)];
      expect(imported.filter((name) => !declared.includes(name))).toEqual([]);
      expect(imported).toContain('@tessera/base');
    }
  });

  it('still sees tensors where they are: @tessera/core pulls in TensorFlow.js', () => {
    const closure = productionClosure(path.join(ROOT, 'packages/core'));
    expect(closure).toContain('@tessera/base');
    expect(closure).toContain('@tensorflow/tfjs-core');
    expect(closure).toContain('@tensorflow/tfjs-backend-wasm');
  });
});
