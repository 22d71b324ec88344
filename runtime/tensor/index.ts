/**
 * @module tensor — the Tensor with its op methods, and every op function.
 *
 * The files build one way: `tensor.ts` (the class: storage, views, readback, autograd glue)
 * ← `elementwise.ts` ← `indexing.ts` ← `reduce.ts` ← `linalg.ts` ← `conv.ts`, with
 * `creation.ts` and `format.ts` beside them; `methods.ts` installs the op methods on the
 * class. Code outside this folder imports from here, so the methods are always installed.
 * @example
 * import { Tensor, tensor, matmul } from './tensor/index.ts';
 */
export { Tensor } from './methods.ts';
export {
  arrayFrom,
  backendOr,
  broadcastView,
  checkInPlace,
  record,
  runOp,
  sameBackend,
  scalarDType,
  scalarLike,
  sumTo,
  type BackwardOptions,
  type GeluOptions,
  type Scalar,
  type SoftplusOptions,
  type TensorLike,
  type TensorOpMethods,
  type ValuesIndices,
  type VarOptions,
} from './tensor.ts';
export * from './elementwise.ts';
export * from './indexing.ts';
export * from './reduce.ts';
export * from './linalg.ts';
export * from './conv.ts';
export * from './creation.ts';
export { formatTensor } from './format.ts';
export { traceOp, withTracer, type TraceAttrs, type TracedOp, type Tracer } from './trace.ts';
export {
  autocastDType,
  autocastPrecision,
  castTo16,
  withAutocastDType,
  type AutocastDType,
} from './autocast-mode.ts';
