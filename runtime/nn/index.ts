/**
 * @module nn — modules and layers with torch.nn's names and semantics: `Module`,
 * `Parameter`, containers, layers, loss modules, and `init`.
 * @example
 * import { nn } from 'lightning-ts';
 * const encoder = new nn.Sequential(new nn.Linear(784, 64), new nn.ReLU(), new nn.Linear(64, 3));
 */
export {
  Module,
  Parameter,
  isParameter,
  StateDictError,
  formatRepr,
  type FactoryOptions,
  type BufferOptions,
  type StateDictOptions,
  type LoadStateDictOptions,
  type LoadStateDictResult,
  type MismatchedKey,
  type StateDictLike,
} from './module.ts';
export { Sequential, ModuleList, ModuleDict, type TensorModule } from './containers.ts';
export { Linear, Identity, type LinearOptions } from './linear.ts';
export { ReLU, LeakyReLU, Sigmoid, Tanh, GELU, SiLU, Softmax, LogSoftmax } from './activation.ts';
export { Dropout } from './dropout.ts';
export { Flatten } from './flatten.ts';
export { Conv2d, type Conv2dModuleOptions } from './conv.ts';
export { MaxPool2d, AvgPool2d, AdaptiveAvgPool2d } from './pooling.ts';
export {
  LayerNorm,
  BatchNorm,
  BatchNorm1d,
  BatchNorm2d,
  type LayerNormModuleOptions,
  type BatchNormModuleOptions,
} from './normalization.ts';
export { Embedding, type EmbeddingModuleOptions } from './embedding.ts';
export type { ProcessGroup } from './functional.ts';
export {
  MSELoss,
  L1Loss,
  SmoothL1Loss,
  HuberLoss,
  CrossEntropyLoss,
  NLLLoss,
  BCELoss,
  BCEWithLogitsLoss,
} from './loss-modules.ts';
export { exportOnnx, OnnxExportError, type OnnxExportOptions } from './onnx-export.ts';
export * as init from './init.ts';
export * as functional from './functional.ts';
export type { Reduction } from './loss-functions.ts';
