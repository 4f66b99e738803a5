#!/usr/bin/env node
// Runs every package's tests through nx (cached), then prints one closing line for CI:
// `N passed, N failed` summed over the packages' .test-results/summary.json. Extra arguments go
// to nx; with `--projects=a,b` only those packages run and count.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const extra = process.argv.slice(2);
const only = extra
  .find((a) => a.startsWith('--projects='))
  ?.slice('--projects='.length)
  .split(',');
const result = spawnSync('npx', ['nx', 'run-many', '-t', 'test', '--outputStyle=static', ...extra], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
});

let passed = 0;
let failed = 0;
let skipped = 0;
for (const group of ['packages', 'datasets', 'apps']) {
  const dir = path.join(root, group);
  if (!existsSync(dir)) continue;
  for (const name of readdirSync(dir)) {
    const summary = path.join(dir, name, '.test-results', 'summary.json');
    if (!existsSync(path.join(dir, name, 'package.json')) || !existsSync(summary)) continue;
    if (only && !only.includes(JSON.parse(readFileSync(path.join(dir, name, 'package.json'), 'utf8')).name)) continue;
    const counts = JSON.parse(readFileSync(summary, 'utf8'));
    passed += counts.passed;
    failed += counts.failed;
    skipped += counts.skipped;
  }
}
if (result.status !== 0 && failed === 0) failed = 1; // a package crashed before reporting
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(result.status === 0 && failed === 0 ? 0 : 1);
