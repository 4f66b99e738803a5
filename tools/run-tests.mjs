#!/usr/bin/env node
// Runs every project's tests through nx, then prints one closing line for CI: `N passed, N
// failed` summed over the projects' test summaries. Extra arguments go to nx; with
// `--projects=a,b` only those projects run and count.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { clearSummaries, sumSummaries, testProjects } from './test-summary.mjs';

const root = path.resolve(import.meta.dirname, '..');
const extra = process.argv.slice(2);
const only = extra
  .find((a) => a.startsWith('--projects='))
  ?.slice('--projects='.length)
  .split(',');

const projects = testProjects(root, only);
clearSummaries(projects); // nx restores the summaries of cached projects itself
const result = spawnSync('npx', ['nx', 'run-many', '-t', 'test', '--outputStyle=static', ...extra], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
});

const { passed, failed, skipped, missing } = sumSummaries(projects);
for (const name of missing) console.error(`${name}: no test summary written (its run crashed or never started); counted as failed`);
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(result.status === 0 && failed === 0 ? 0 : 1);
