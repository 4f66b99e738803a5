import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * Shared by every package's vitest.config.ts: sibling packages resolve to their TypeScript
 * sources (the `development` export condition), so tests need no build.
 */
export default defineConfig({
  resolve: { conditions: ['development'] },
  ssr: { resolve: { conditions: ['development'], externalConditions: ['development'] } },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default', fileURLToPath(new URL('./tools/vitest-summary-reporter.ts', import.meta.url))],
  },
});
