/**
 * @tessera/data: text-image data: JSONL/CSV manifests, WebDataset tar shards, a seeded resumable epoch
 * source.
 *
 * @module @tessera/data
 */
export { braceExpand } from './braceExpand.js';
export { type CsvRow, parseCsv } from './csv.js';
export {
  type BatchBuilder,
  type EpochPosition,
  EpochSource,
  type EpochSourceOptions,
  type EpochSourceSettings,
  epochSourceOptionsSchema,
} from './epochSource.js';
export {
  DEFAULT_CAPTION_KEYS,
  DEFAULT_IMAGE_KEYS,
  type Manifest,
  type ManifestOptions,
  type ManifestRow,
  manifestOptionsSchema,
  readManifest,
  writeManifest,
} from './manifest.js';
export { type Caption, type DataRecord, type ImageRef, imageExtension, loadImageBytes, parseCaptions } from './record.js';
export { countShardSamples, type ShardSampleCount, statsLocation } from './shardCount.js';
export {
  ShardEpochSource,
  type ShardEpochSourceOptions,
  type ShardEpochSourceSettings,
  shardEpochSourceOptionsSchema,
} from './shardEpochSource.js';
export { type ShardSplitOptions, shardSplitOptionsSchema, splitShards } from './shardSplit.js';
export { localPath, openShard, readSidecar, ShardStreamError } from './shardStream.js';
export {
  readShard,
  resolveShards,
  splitKey,
  type WriteShardsOptions,
  type WriteShardsResult,
  writeShards,
  writeShardsOptionsSchema,
} from './shards.js';
export { SkipCounter, type SkipExample, type SkipReason, SkipSample } from './skipCounter.js';
export { readTar, readTarStream, type TarEntry, TarFormatError, TarWriter, tarHeader } from './tar.js';
