#!/usr/bin/env node
// Runs the built CLI (dist/) when present; in a source checkout, the TypeScript through tsx.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist/main.js', import.meta.url));
if (existsSync(dist)) {
  await import(new URL('../dist/main.js', import.meta.url).href);
} else {
  const src = fileURLToPath(new URL('../src/main.ts', import.meta.url));
  const child = spawnSync(
    process.execPath,
    ['--import', import.meta.resolve('tsx'), '--conditions=development', src, ...process.argv.slice(2)],
    {
      stdio: 'inherit',
    },
  );
  process.exitCode = child.status ?? 1;
}
