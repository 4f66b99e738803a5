import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../vitest.shared.js';

/** Cross-package integration and end-to-end tests, and the tests of the repository's tools. */
export default mergeConfig(
  shared,
  defineConfig({ test: { include: ['tools/**/*.test.ts', 'integration/**/*.test.ts', 'e2e/**/*.test.ts'] } }),
  false,
);
