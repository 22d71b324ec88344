/**
 * @module lightning-ts — the public API of the runtime (re-exported by each binding).
 */
export type { Backend, BackendCapabilities, BufferHandle, MemoryInfo, TensorView } from './backend.ts';
export type { DType, StorageArray } from './dtype.ts';
export * from './errors.ts';
export {
  OP_NAMES,
  UNARY_OPS,
  BINARY_OPS,
  REDUCE_OPS,
  ACTIVATIONS,
  opDTypes,
  type OpName,
  type OpAttrs,
} from './ops.ts';
export { getDefaultBackend, setDefaultBackend } from './default-backend.ts';
export {
  requestWebGPUBackend,
  detectGpu,
  type RequestWebGPUBackendOptions,
  type RequestedWebGPUBackend,
} from './backends/webgpu/request.ts';
export type {
  GpuAdapterDescription,
  GpuDetection,
  GpuFeatures,
  GpuHandle,
  GpuRequestOptions,
} from './backends/webgpu/device.ts';
export { getPlatform, setPlatform, type Platform, type KernelVariant } from './platform.ts';
export {
  Tensor,
  sumTo,
  type Scalar,
  type TensorLike,
  type BackwardOptions,
  type ValuesIndices,
} from './tensor/index.ts';
export { noGrad, enableGrad, isGradEnabled } from './autograd.ts';
export { tidy, keep, liveBuffers } from './memory.ts';
export { Generator, manualSeed, defaultGenerator, type GeneratorState } from './random.ts';
export {
  tensor,
  zeros,
  ones,
  full,
  zerosLike,
  onesLike,
  fullLike,
  arange,
  linspace,
  eye,
  rand,
  randn,
  randint,
  randLike,
  randnLike,
  randintLike,
  randperm,
  type TensorOptions,
  type RandomOptions,
  type NestedArray,
} from './tensor/index.ts';
export {
  add,
  sub,
  mul,
  div,
  pow,
  neg,
  abs,
  sign,
  sqrt,
  rsqrt,
  exp,
  log,
  clamp,
  minimum,
  maximum,
  where,
  eq,
  ne,
  lt,
  le,
  gt,
  ge,
  logicalNot,
  relu,
  leakyRelu,
  sigmoid,
  tanh,
  gelu,
  silu,
  softplus,
  elu,
  cast,
  roundF16,
  roundBF16,
  type GeluOptions,
  type SoftplusOptions,
} from './tensor/index.ts';
export {
  sum,
  mean,
  variance as var,
  std,
  logSumExp,
  softmax,
  logSoftmax,
  amax,
  amin,
  type VarOptions,
} from './tensor/index.ts';
export { matmul, linear } from './tensor/index.ts';
export { gather, scatterAdd, indexSelect, cat, stack, oneHot } from './tensor/index.ts';
export * as nn from './nn/index.ts';
export * as F from './nn/functional.ts';
export * as optim from './optim/index.ts';
export * as amp from './amp/index.ts';
export { autocast, GradScaler } from './amp/index.ts';
export * from './data/index.ts';
export { FormatError, LimitError } from './io/errors.ts';
export type { ReadLimits } from './io/bytes.ts';
export { parseIdx, encodeIdx, type IdxData, type IdxDType, type IdxArray } from './io/idx.ts';
export { gunzip, gzip, isGzip } from './io/gzip.ts';
export {
  TensorBoardLogger,
  CSVLogger,
  SummaryWriter,
  CsvExperimentWriter,
  EventFileWriter,
  LoggerError,
  type Logger,
  type LoggerStatus,
  type HParams,
  type TensorBoardLoggerOptions,
  type CSVLoggerOptions,
  type EventFileWriterOptions,
  type ImageArray,
  type ImageFormat,
} from './lightning/loggers/index.ts';
export { encodePng, type PngImage } from './io/png.ts';
export {
  decodeOnnx,
  encodeOnnx,
  ONNX_DTYPE,
  type OnnxAttribute,
  type OnnxGraph,
  type OnnxModel,
  type OnnxNode,
  type OnnxTensor,
  type OnnxValueInfo,
} from './io/onnx.ts';
export { OnnxExportError, type OnnxExportOptions } from './nn/onnx-export.ts';
export {
  OnnxSession,
  OnnxInputError,
  OnnxNodeError,
  OnnxUnsupportedError,
  SUPPORTED_ONNX_OPS,
  type OnnxSessionOptions,
} from './inference/onnx-session.ts';
export * as tfevents from './io/tfevents.ts';
export {
  saveTorch,
  loadTorch,
  int64,
  Int64,
  TORCH_GLOBALS,
  type SaveTorchOptions,
  type LoadTorchOptions,
} from './io/torch-ckpt.ts';
export {
  saveSafetensors,
  loadSafetensors,
  type SafetensorsFile,
  type LoadSafetensorsOptions,
} from './io/safetensors.ts';
export * from './lightning/index.ts';
