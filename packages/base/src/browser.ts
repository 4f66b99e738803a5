// The part of @tessera/base with no Node built-ins (typed errors, config parsing, seeded RNG,
// spreads, logging): what bundlers targeting a browser get through the `browser` export condition.
// `writeFileAtomic`, `pathExists`, `progress` and the benchmark records need Node and come only
// from the Node entry (src/index.ts), which re-exports all of this.
export { nearestName, parseConfig } from './config.js';
export { isTesseraError, TesseraError, type TesseraErrorCode } from './errors.js';
export { createLogger, type Logger, type LogLevel } from './log.js';
export { type RandomState, SeededRandom } from './random.js';
export { type Spread, spread } from './spread.js';
