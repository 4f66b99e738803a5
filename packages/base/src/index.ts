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
export { nearestName, parseConfig } from './config.js';
export { isTesseraError, TesseraError, type TesseraErrorCode } from './errors.js';
export { pathExists, writeFileAtomic } from './fs.js';
export { createLogger, type Logger, type LogLevel } from './log.js';
export { type Progress, type ProgressOptions, progress } from './progress.js';
export { type RandomState, SeededRandom } from './random.js';
export { type Spread, spread } from './spread.js';
