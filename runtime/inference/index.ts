/**
 * @module lightning-ts/inference — the production entry: load weights, run `forward`.
 *
 * The same `nn` layers, `F` and tensor ops as `lightning-ts`, with nothing of training in the
 * bundle: no autograd tape (scripts/bundle-inference.mjs puts runtime/inference/no-autograd.ts in
 * place of runtime/autograd.ts), no Trainer, loggers, optimizers or amp. Define the module with
 * the layers it was trained with, `loadWeights` a `.ckpt`, a torch state dict or `.safetensors`
 * into it, and call `forward`.
 *
 * @example
 * import { nn, tensor, loadWeights } from 'lightning-ts/inference';
 * const encoder = new nn.Sequential(new nn.Linear(784, 64), new nn.ReLU(), new nn.Linear(64, 3));
 * await loadWeights(encoder, ckptBytes, { prefix: 'encoder.' });
 * const z = await encoder.forward(tensor(images)).data(); // images: [N, 784]
 */
export type { Backend, BackendCapabilities, MemoryInfo } from '../backend.ts';
export type { DType, StorageArray } from '../dtype.ts';
export * from '../errors.ts';
export { getDefaultBackend, setDefaultBackend } from '../default-backend.ts';
export { noGrad, enableGrad, isGradEnabled } from '../autograd.ts';
export { TrainingNotAvailableError } from './no-autograd.ts';
export { tidy, keep, liveBuffers } from '../memory.ts';
export { manualSeed } from '../random.ts';
export { Tensor, type Scalar, type TensorLike } from '../tensor/index.ts';
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
  type TensorOptions,
  type NestedArray,
} from '../tensor/index.ts';
export {
  add,
  sub,
  mul,
  div,
  pow,
  neg,
  abs,
  sqrt,
  exp,
  log,
  clamp,
  minimum,
  maximum,
  where,
  relu,
  sigmoid,
  tanh,
  gelu,
  silu,
  cast,
  sum,
  mean,
  amax,
  amin,
  softmax,
  logSoftmax,
  matmul,
  linear,
  gather,
  indexSelect,
  cat,
  stack,
} from '../tensor/index.ts';
export * as nn from '../nn/index.ts';
export * as F from '../nn/functional.ts';
export { StateDictError, type MismatchedKey } from '../nn/module.ts';
export { FormatError, LimitError } from '../io/errors.ts';
export type { BytesInput } from '../io/bytes.ts';
export { loadTorch, type LoadTorchOptions } from '../io/torch-ckpt.ts';
export { loadSafetensors, type SafetensorsFile, type LoadSafetensorsOptions } from '../io/safetensors.ts';
export {
  loadWeights,
  LoadWeightsError,
  type LoadWeightsOptions,
  type LoadWeightsResult,
  type WeightsFormat,
} from './load-weights.ts';
export { checkInput, InputError, type InputSpec } from './check-input.ts';
export type { InferenceInitOptions } from './init.ts';
export {
  OnnxSession,
  SUPPORTED_ONNX_OPS,
  type OnnxSessionOptions,
} from './onnx-session.ts';
export { OnnxInputError, OnnxNodeError, OnnxUnsupportedError } from './onnx-errors.ts';
export { decodeOnnx } from '../io/onnx.ts';
