import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { clearSummaries, sumSummaries, testProjects } from '../../tools/test-summary.mjs';

const fixtures = fileURLToPath(new URL('./fixtures/reporter/', import.meta.url));
const vitest = fileURLToPath(new URL('../../node_modules/vitest/vitest.mjs', import.meta.url));

describe('the summary reporter CI reads', () => {
  it('counts tests blocked by a failing beforeAll, a failing afterAll and a file that fails to load as failures', () => {
    rmSync(path.join(fixtures, '.test-results'), { recursive: true, force: true });
    const run = spawnSync(process.execPath, [vitest, 'run', '--config', 'vitest.config.ts'], { cwd: fixtures, encoding: 'utf8' });
    expect(run.status).toBe(1);
    // By hand from the four case files: passed c, top, e; failed a, b (blocked), c's cleanup,
    // d (blocked), inner2's cleanup, the unloadable file; skipped the it.skip.
    expect(run.stdout).toContain('\n3 passed, 6 failed, 1 skipped\n');
    const summary = JSON.parse(readFileSync(path.join(fixtures, '.test-results', 'summary.json'), 'utf8'));
    expect(summary).toEqual({ passed: 3, failed: 6, skipped: 1 });
    rmSync(path.join(fixtures, '.test-results'), { recursive: true, force: true });
  });
});

describe('the test runner', () => {
  it('ignores stale summaries: a project that writes none this run counts as failed', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'tessera-runner-'));
    try {
      writeFileSync(path.join(root, 'package.json'), JSON.stringify({ workspaces: ['packages/*'] }));
      for (const name of ['a', 'b', 'no-tests']) {
        mkdirSync(path.join(root, 'packages', name, '.test-results'), { recursive: true });
        const scripts = name === 'no-tests' ? {} : { test: 'vitest run' };
        writeFileSync(path.join(root, 'packages', name, 'package.json'), JSON.stringify({ name: `@x/${name}`, scripts }));
        writeFileSync(
          path.join(root, 'packages', name, '.test-results', 'summary.json'),
          JSON.stringify({ passed: 5, failed: 0, skipped: 0 }),
        );
      }
      const projects = testProjects(root);
      expect(projects.map((p) => p.name).sort()).toEqual(['@x/a', '@x/b']);
      clearSummaries(projects);
      // This run, only a reports.
      writeFileSync(
        path.join(root, 'packages', 'a', '.test-results', 'summary.json'),
        JSON.stringify({ passed: 2, failed: 0, skipped: 1 }),
      );
      expect(sumSummaries(projects)).toEqual({ passed: 2, failed: 1, skipped: 1, missing: ['@x/b'] });
      expect(testProjects(root, ['@x/b']).map((p) => p.name)).toEqual(['@x/b']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
