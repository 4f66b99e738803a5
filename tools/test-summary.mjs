// The projects `npm test` runs and how their results add up: each project's vitest run leaves
// `.test-results/summary.json` (see vitest-summary-reporter.ts); the runner removes them first,
// so a project that crashed before reporting counts as failed instead of replaying an old result.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

const readJson = (file) => (existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : null);

/** Workspace folders (the root package.json's `dir/*` globs) and `tests/` that have a test target. */
export function testProjects(root, only) {
  const { workspaces } = readJson(path.join(root, 'package.json'));
  const dirs = workspaces.flatMap((glob) => {
    const parent = path.join(root, glob.replace(/\/\*$/, ''));
    return glob.endsWith('/*') && existsSync(parent) ? readdirSync(parent).map((name) => path.join(parent, name)) : [];
  });
  dirs.push(path.join(root, 'tests'));
  const projects = [];
  for (const dir of dirs) {
    const pkg = readJson(path.join(dir, 'package.json'));
    const project = readJson(path.join(dir, 'project.json'));
    const name = project?.name ?? pkg?.name;
    if (name && (pkg?.scripts?.test || project?.targets?.test)) projects.push({ name, dir });
  }
  return projects.filter((p) => !only || only.includes(p.name));
}

const summaryFile = (dir) => path.join(dir, '.test-results', 'summary.json');

export function clearSummaries(projects) {
  for (const { dir } of projects) rmSync(summaryFile(dir), { force: true });
}

/** Sums the summaries; a project without one counts as one failure, named in `missing`. */
export function sumSummaries(projects) {
  const total = { passed: 0, failed: 0, skipped: 0, missing: [] };
  for (const { name, dir } of projects) {
    const counts = readJson(summaryFile(dir));
    if (!counts) {
      total.failed += 1;
      total.missing.push(name);
      continue;
    }
    total.passed += counts.passed;
    total.failed += counts.failed;
    total.skipped += counts.skipped;
  }
  return total;
}
