/**
 * @tessera/base: typed errors, config parsing, seeded RNG, logging, progress, atomic file writes and
 * benchmark records, with no tensor library.
 *
 * @module @tessera/base
 */
export {
  type BenchmarkResult,
  nativeGemmLabel,
  recordBenchmark,
  referencePython,
  type TorchPeerSetting,
  torchPeerSettings,
  workspaceRoot,
} from './bench.js';
// Everything that also runs in a browser (the `browser` export condition's entry).
export * from './browser.js';
export { pathExists, writeFileAtomic } from './fs.js';
export { type Progress, type ProgressOptions, progress } from './progress.js';
