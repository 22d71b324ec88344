/**
 * @module tensor/reduce — reductions over dims, and the softmax family built from them.
 *
 * The backend reduces one axis of a contiguous tensor at a time; several dims
 * reduce one after another, from the last. Sums keep a fixed order, so results
 * repeat exactly.
 */
import { noGrad } from '../autograd.ts';
import { checkDType, type DType } from '../dtype.ts';
import { ShapeError } from '../errors.ts';
import * as ew from './elementwise.ts';
import type { ReduceOp } from '../ops.ts';
import { normalizeDim, numelOf, shapeString } from '../shape.ts';
import { type Tensor, record, runOp, type ValuesIndices, type VarOptions } from './tensor.ts';

export type { VarOptions };
import { scatterAddRaw } from './indexing.ts';
import { traceOp } from './trace.ts';

/** The dims to reduce, sorted and unique; all dims when `dim` is undefined or empty. */
function reduceDims(op: string, x: Tensor, dim: number | readonly number[] | undefined): number[] {
  if (dim === undefined) return x.shape.map((_, i) => i);
  const list = typeof dim === 'number' ? [dim] : dim;
  if (list.length === 0) return x.shape.map((_, i) => i);
  const dims = list.map((d) => normalizeDim(op, d, x.dim()));
  if (new Set(dims).size !== dims.length) {
    throw new ShapeError(`${op}: a dim appears more than once; expected distinct dims, got [${list.join(',')}]`);
  }
  return dims.sort((a, b) => a - b);
}

/** The shape with `dims` set to 1. */
function keptShape(shape: readonly number[], dims: readonly number[]): number[] {
  return shape.map((s, i) => (dims.includes(i) ? 1 : s));
}

/** Reduces `dims` (sorted) with a primitive; the result keeps them as size 1. No gradient. */
function reduceRaw(op: ReduceOp, x: Tensor, dims: readonly number[], dtype: DType): Tensor {
  if (x.dim() === 0) {
    return runOp(op, x.backend, dtype, [1], [x.reshape([1]).contiguous().view_()], { axis: 0 }).reshape([]);
  }
  let cur = x.contiguous();
  for (let i = dims.length - 1; i >= 0; i--) {
    const axis = dims[i]!;
    const shape = [...cur.shape];
    shape[axis] = 1;
    const next = runOp(op, cur.backend, op === 'argmax' || op === 'argmin' ? 'int32' : dtype, shape, [cur.view_()], {
      axis,
    });
    if (cur !== x) cur.dispose();
    cur = next;
  }
  return cur;
}

function finish(r: Tensor, x: Tensor, dims: readonly number[], keepdim: boolean): Tensor {
  if (keepdim || x.dim() === 0) return r;
  return r.view(x.shape.filter((_, i) => !dims.includes(i)));
}

function checkNonEmpty(op: string, x: Tensor, dims: readonly number[]): void {
  for (const d of dims) {
    if (x.shape[d] === 0) {
      throw new ShapeError(
        `${op}: cannot reduce over a zero-size dim; expected size > 0 at dim ${d}, got shape ${shapeString(x.shape)}`,
      );
    }
  }
}

/**
 * Sum over `dim` (one, several, or all when omitted). bool and int32 sum to int32.
 * @example tensor([[1, 2], [3, 4]]).sum(0) // [4, 6]
 */
export function sum(x: Tensor, dim?: number | readonly number[], keepdim = false): Tensor {
  const dims = reduceDims('sum', x, dim);
  const src = x.dtype === 'bool' ? ew.cast(x, 'int32') : x;
  const r = finish(
    noGrad(() => reduceRaw('sum', src, dims, src.dtype)),
    x,
    dims,
    keepdim,
  );
  const kept = keptShape(x.shape, dims);
  const inShape = x.shape;
  record(r, 'Sum', [x], (g) => [g.reshape(x.dim() === 0 ? [] : kept).expand(inShape)]);
  return traceOp('sum', r, [x], { dims, keepdim });
}

/** Mean over `dim` (float only, as torch.mean). */
export function mean(x: Tensor, dim?: number | readonly number[], keepdim = false): Tensor {
  checkDType('mean', x.dtype, ['float32', 'float64']);
  const dims = reduceDims('mean', x, dim);
  const count = x.dim() === 0 ? 1 : numelOf(dims.map((d) => x.shape[d]!));
  return traceOp('mean', ew.div(sum(x, dims, keepdim), count), [x], { dims, keepdim });
}

/** The largest element (NaN if any); at ties the gradient is shared evenly, as torch.amax. */
export function amax(x: Tensor): Tensor {
  return extremeAll('max', x);
}

/** The smallest element (NaN if any); ties share the gradient evenly. */
export function amin(x: Tensor): Tensor {
  return extremeAll('min', x);
}

function extremeAll(op: 'max' | 'min', x: Tensor): Tensor {
  const dims = x.shape.map((_, i) => i);
  if (x.numel() === 0) {
    throw new ShapeError(
      `${op}: cannot reduce an empty tensor; expected at least 1 element, got shape ${shapeString(x.shape)}`,
    );
  }
  checkDType(op, x.dtype, ['float32', 'float64', 'int32']);
  const r = finish(
    noGrad(() => reduceRaw(op, x, dims, x.dtype)),
    x,
    dims,
    false,
  );
  record(r, op === 'max' ? 'Max' : 'Min', [x], (g) => {
    const mask = ew.eq(x, r);
    const count = sum(mask);
    return [ew.where(mask, ew.div(g, count), 0)];
  });
  return traceOp(op === 'max' ? 'amax' : 'amin', r, [x], { dims, keepdim: false });
}

/**
 * `{ values, indices }` of the largest (or smallest) element along `dim`, as
 * torch.max(x, dim). The gradient flows to the index returned (the first extreme).
 */
export function maxDim(op: 'max' | 'min', x: Tensor, dim: number, keepdim: boolean): ValuesIndices {
  const d = normalizeDim(op, dim, x.dim());
  const dims = x.dim() === 0 ? [] : [d];
  checkNonEmpty(op, x, dims);
  checkDType(op, x.dtype, ['float32', 'float64', 'int32']);
  const idxKept = noGrad(() => reduceRaw(op === 'max' ? 'argmax' : 'argmin', x, dims, 'int32'));
  const valKept = noGrad(() => reduceRaw(op, x, dims, x.dtype));
  const inShape = x.shape;
  const values = record(finish(valKept, x, dims, keepdim), op === 'max' ? 'MaxDim' : 'MinDim', [x], (g) => {
    if (x.dim() === 0) return [g];
    const gk = g.reshape(valKept.shape).contiguous();
    const base = ew.zerosOn(g.backend, inShape, g.dtype);
    return [scatterAddRaw(base, d, idxKept, gk)];
  });
  const indices = finish(idxKept, x, dims, keepdim);
  traceOp(`${op}_dim`, values, [x], { dims, keepdim });
  return { values, indices: traceOp(op === 'max' ? 'argmax' : 'argmin', indices, [x], { dims, keepdim }) };
}

/** Index of the largest/smallest element along `dim` (of the flattened tensor when omitted), int32. */
export function argExtreme(op: 'argmax' | 'argmin', x: Tensor, dim: number | undefined, keepdim: boolean): Tensor {
  checkDType(op, x.dtype, ['float32', 'float64', 'int32']);
  if (dim === undefined) {
    const flat = x.reshape([-1]);
    checkNonEmpty(op, flat, [0]);
    return traceOp(op, noGrad(() => reduceRaw(op, flat, [0], 'int32')).reshape([]), [x], { dims: null, keepdim });
  }
  const d = normalizeDim(op, dim, x.dim());
  const dims = x.dim() === 0 ? [] : [d];
  checkNonEmpty(op, x, dims);
  const out = finish(
    noGrad(() => reduceRaw(op, x, dims, 'int32')),
    x,
    dims,
    keepdim,
  );
  return traceOp(op, out, [x], { dims, keepdim });
}

/** Options of `var` and `std`. */

/** Variance over `dim`: Σ(x − mean)² / (N − correction). */
export function variance(x: Tensor, dim?: number | readonly number[], options: VarOptions = {}): Tensor {
  checkDType('var', x.dtype, ['float32', 'float64']);
  const dims = reduceDims('var', x, dim);
  const n = x.dim() === 0 ? 1 : numelOf(dims.map((d) => x.shape[d]!));
  const diff = ew.sub(x, mean(x, dims, true));
  return ew.div(sum(ew.mul(diff, diff), dims, options.keepdim ?? false), Math.max(0, n - (options.correction ?? 1)));
}

/** Standard deviation over `dim`: √var. */
export function std(x: Tensor, dim?: number | readonly number[], options: VarOptions = {}): Tensor {
  return ew.sqrt(variance(x, dim, options));
}

/** The max over dims with keepdim, outside the graph, with ±inf replaced by 0 (a safe shift). */
function safeShift(x: Tensor, dims: readonly number[]): Tensor {
  return noGrad(() => {
    const m = reduceRaw('max', x, dims, x.dtype);
    return ew.where(ew.eq(ew.abs(m), Infinity), 0, m);
  });
}

/** log Σ exp(x) over `dim`, computed stably (shifted by the max). */
export function logSumExp(x: Tensor, dim: number | readonly number[], keepdim = false): Tensor {
  checkDType('logSumExp', x.dtype, ['float32', 'float64']);
  const dims = reduceDims('logSumExp', x, dim);
  if (x.numel() === 0) return finish(ew.log(sum(x, dims, true)), x, dims, keepdim);
  const m = safeShift(x, dims);
  const r = ew.add(ew.log(sum(ew.exp(ew.sub(x, m)), dims, true)), m);
  return traceOp('logsumexp', finish(r, x, dims, keepdim), [x], { dims, keepdim });
}

/** exp(x) / Σ exp(x) along `dim`. */
export function softmax(x: Tensor, dim: number): Tensor {
  checkDType('softmax', x.dtype, ['float32', 'float64']);
  const d = normalizeDim('softmax', dim, x.dim());
  const dims = x.dim() === 0 ? [] : [d];
  if (x.numel() === 0) return x.clone();
  const e = ew.exp(ew.sub(x, safeShift(x, dims)));
  return traceOp('softmax', ew.div(e, sum(e, dims, true)), [x], { dim: d });
}

/** x − logSumExp(x) along `dim`. */
export function logSoftmax(x: Tensor, dim: number): Tensor {
  checkDType('logSoftmax', x.dtype, ['float32', 'float64']);
  const d = normalizeDim('logSoftmax', dim, x.dim());
  if (x.numel() === 0) return x.clone();
  return traceOp('log_softmax', ew.sub(x, logSumExp(x, x.dim() === 0 ? [] : [d], true)), [x], { dim: d });
}
