/**
 * @tessera/core: TensorFlow.js backend selection, fast wasm kernels, seeded RNG, typed errors,
 * safetensors I/O, logging and progress.
 *
 * @module @tessera/core
 */
export {
  type BenchmarkResult,
  createLogger,
  isTesseraError,
  type Logger,
  type LogLevel,
  nativeGemmLabel,
  nearestName,
  type Progress,
  type ProgressOptions,
  parseConfig,
  pathExists,
  progress,
  type RandomState,
  recordBenchmark,
  referencePython,
  SeededRandom,
  type Spread,
  spread,
  TesseraError,
  type TesseraErrorCode,
  type TorchPeerSetting,
  torchPeerSettings,
  workspaceRoot,
  writeFileAtomic,
} from '@tessera/base';
export {
  BACKEND_NAMES,
  type BackendChoice,
  type BackendInfo,
  type BackendName,
  backendInfo,
  type InitBackendOptions,
  initBackend,
  type NativeInfo,
} from './backend.js';
export { type CombinedLosses, combineLosses } from './combineLosses.js';
export type { LinearActivation } from './kernels/native/fusedKernels.js';
export {
  type CrossEntropyOptions,
  type FusedAttentionOptions,
  fusedAttention,
  fusedGelu,
  fusedLayerNorm,
  fusedLinear,
  fusedSoftmaxCrossEntropy,
} from './kernels/native/fusedOps.js';
export { type AdamStepSettings, nativeAdamStep } from './kernels/native/nativeAdam.js';
export { NATIVE_KERNELS } from './kernels/native/nativeKernels.js';
export { TESTED_TFJS_VERSION } from './kernels/native/selfCheck.js';
export { fastWasmKernelsActive, useFastWasmKernels, WASM_KERNEL_FIXES, WASM_MISSING_KERNELS } from './kernels/wasmKernels.js';
export { Module, type ParameterInfo, type ParameterOptions } from './module.js';
export { matMul } from './ops/matMul.js';
export { patchify, unpatchify } from './ops/patchify.js';
export {
  fromFloat32,
  loadSafetensors,
  MAX_HEADER_BYTES,
  parseSafetensors,
  type SafetensorsData,
  type SafetensorsDtype,
  type SafetensorsFile,
  type SafetensorsTensor,
  saveSafetensors,
  serializeSafetensors,
  toFloat32,
} from './safetensors.js';
export { safetensorsToTensor, tensorToSafetensors } from './tensorIO.js';
export { tf } from './tf.js';
