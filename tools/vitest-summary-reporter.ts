import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Reporter, TestCase, TestModule, TestSuite } from 'vitest/node';

/** A test that did not run only because a hook of an enclosing suite or module failed. */
function blockedByHook(test: TestCase): boolean {
  return test.result().state === 'skipped' && test.options.mode !== 'skip' && test.options.mode !== 'todo';
}

/**
 * Counts a run as CI should: a test skipped on purpose (`it.skip`, `it.todo`) is skipped, but a
 * test that never ran because a `beforeAll` threw is failed, and a suite or module whose hook
 * (`afterAll` included) or import failed counts once more as failed when no test carries it.
 */
export function countResults(testModules: ReadonlyArray<TestModule>, unhandledErrors: number) {
  let passed = 0;
  let failed = unhandledErrors;
  let skipped = 0;
  for (const module of testModules) {
    for (const test of module.children.allTests()) {
      const state = test.result().state;
      if (state === 'passed') passed++;
      else if (state === 'failed') failed++;
      else if (blockedByHook(test) && hasFailedHook(test.parent)) failed++;
      else skipped++;
    }
    for (const scope of [module, ...module.children.allSuites()]) {
      if (scope.errors().length === 0) continue;
      const carried = [...scope.children.allTests()].some((t) => blockedByHook(t));
      if (!carried) failed++;
    }
  }
  return { passed, failed, skipped };
}

function hasFailedHook(scope: TestSuite | TestModule): boolean {
  if (scope.errors().length > 0) return true;
  return scope.type === 'suite' ? hasFailedHook(scope.parent) : false;
}

/**
 * Prints the plain `N passed, N failed` line CI reads, and leaves the counts in
 * `.test-results/summary.json` (an nx output, so cached runs still report their counts).
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    const counts = countResults(testModules, unhandledErrors.length);
    const dir = path.join(process.cwd(), '.test-results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'summary.json'), `${JSON.stringify(counts)}\n`);
    const { passed, failed, skipped } = counts;
    process.stdout.write(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
  }
}
