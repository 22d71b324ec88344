/**
 * @module tensor/indexing — gather, scatterAdd, indexSelect, cat, stack and oneHot.
 */
import { noGrad } from '../autograd.ts';
import { checkDType, isFloating, promoteTypes } from '../dtype.ts';
import { DTypeError, IndexError, ShapeError, ValueError } from '../errors.ts';
import * as ew from './elementwise.ts';
import { normalizeDim, shapeString } from '../shape.ts';
import { Tensor, arrayFrom, record, runOp, sameBackend } from './tensor.ts';
import { traceOp } from './trace.ts';

function checkIndex(op: string, index: Tensor): void {
  if (index.dtype !== 'int32') {
    throw new DTypeError(`${op}: index must be an integer tensor; expected int32, got ${index.dtype}`);
  }
}

/** scatter_add into a copy of `base`, outside the graph. */
export function scatterAddRaw(base: Tensor, dim: number, index: Tensor, src: Tensor): Tensor {
  return runOp(
    'scatter_add',
    base.backend,
    base.dtype,
    base.shape,
    [base.contiguous().view_(), index.contiguous().view_(), src.contiguous().view_()],
    { axis: dim },
  );
}

function checkGatherShapes(op: string, x: Tensor, d: number, index: Tensor): void {
  if (index.dim() !== x.dim()) {
    throw new ShapeError(
      `${op}: index must have the input's rank; expected rank ${x.dim()}, got ${shapeString(index.shape)}`,
    );
  }
  for (let i = 0; i < x.dim(); i++) {
    if (i !== d && index.shape[i]! > x.shape[i]!) {
      throw new ShapeError(
        `${op}: index is larger than the input at dim ${i}; expected index.size(${i}) <= ${x.shape[i]}, got ${shapeString(index.shape)} for input ${shapeString(x.shape)}`,
      );
    }
  }
}

/**
 * Picks values along `dim` by `index`, as torch.gather.
 * @example gather(tensor([[1, 2], [3, 4]]), 1, tensor([[0, 0], [1, 0]], { dtype: 'int32' })) // [[1, 1], [4, 3]]
 */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  sameBackend('gather', [x, index]);
  checkIndex('gather', index);
  checkDType('gather', x.dtype, ['float32', 'float64', 'int32']);
  const d = normalizeDim('gather', dim, x.dim());
  checkGatherShapes('gather', x, d, index);
  const out = runOp('gather', x.backend, x.dtype, index.shape, [x.contiguous().view_(), index.contiguous().view_()], {
    axis: d,
  });
  const inShape = x.shape;
  record(out, 'Gather', [x], (g) => [scatterAddRaw(ew.zerosOn(g.backend, inShape, g.dtype), d, index, g)]);
  return traceOp('gather', out, [x, index], { dim: d });
}

/**
 * `x` plus `src` added at `index` along `dim`, as torch.scatter_add (out of place).
 */
export function scatterAdd(x: Tensor, dim: number, index: Tensor, src: Tensor): Tensor {
  sameBackend('scatterAdd', [x, index, src]);
  checkIndex('scatterAdd', index);
  const d = normalizeDim('scatterAdd', dim, x.dim());
  if (src.shape.length !== index.shape.length || src.shape.some((s, i) => s !== index.shape[i])) {
    throw new ShapeError(
      `scatterAdd: src and index shapes differ; expected ${shapeString(index.shape)}, got ${shapeString(src.shape)}`,
    );
  }
  checkGatherShapes('scatterAdd', x, d, index);
  const s = ew.cast(src, x.dtype);
  const out = scatterAddRaw(x, d, index, s);
  record(out, 'ScatterAdd', [x, s], (g) => [g, s.requiresGrad ? gather(g, d, index) : null]);
  return traceOp('scatter_add', out, [x, index, s], { dim: d });
}

/**
 * The entries of `index` (1-D) along `dim`, as torch.index_select.
 *
 * One `gather` along the middle dim of `x` viewed as `[outer, x.shape[dim], inner]`, with
 * the index `[1, L, 1]` broadcast to `[outer, L, inner]` by stride 0 (ops.ts's gather
 * allows that), so no expanded index is materialised and a backend can copy whole rows of
 * `inner` elements (a TensorDataset batch is one row copy per sample).
 * @example indexSelect(x, 0, tensor([2, 0], { dtype: 'int32' })) // rows 2 and 0
 */
export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  checkIndex('indexSelect', index);
  if (index.dim() > 1) {
    throw new ShapeError(`indexSelect: index must be 1-D; expected rank <= 1, got ${shapeString(index.shape)}`);
  }
  if (x.dim() === 0) return gather(x.reshape([1]), 0, index.reshape([1])).reshape([]);
  sameBackend('indexSelect', [x, index]);
  checkDType('indexSelect', x.dtype, ['float32', 'float64', 'int32']);
  const d = normalizeDim('indexSelect', dim, x.dim());
  const len = index.numel();
  const n = x.shape[d]!;
  const outer = x.shape.slice(0, d).reduce((a, b) => a * b, 1);
  const inner = x.shape.slice(d + 1).reduce((a, b) => a * b, 1);
  const x3 = x.reshape([outer, n, inner]);
  const idx3 = noGrad(() => index.contiguous().reshape([1, len, 1]).expand([outer, len, inner]));
  const out3 = runOp('gather', x.backend, x.dtype, [outer, len, inner], [x3.contiguous().view_(), idx3.view_()], {
    axis: 1,
  });
  const shape3 = x3.shape;
  // The backward materialises the index (scatter_add takes a contiguous one) only when it runs.
  const out = record(out3, 'IndexSelect', [x3], (g) => [
    scatterAddRaw(ew.zerosOn(g.backend, shape3, g.dtype), 1, idx3, g),
  ]);
  return traceOp('index_select', out.reshape(x.shape.map((s, i) => (i === d ? len : s))), [x, index], { dim: d });
}

/**
 * Joins tensors along an existing dim, as torch.cat.
 * @example cat([ones([2, 3]), zeros([1, 3])], 0).shape // [3, 3]
 */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  const first = tensors[0];
  if (first === undefined)
    throw new ValueError('cat: expected a non-empty list of tensors; expected at least 1, got 0');
  const backend = sameBackend('cat', tensors);
  const rank = first.dim();
  if (rank === 0)
    throw new ShapeError('cat: zero-dimensional tensors cannot be concatenated; expected rank >= 1, got []');
  const d = normalizeDim('cat', dim, rank);
  let dtype = first.dtype;
  let total = 0;
  for (const t of tensors) {
    if (t.dim() !== rank || t.shape.some((s, i) => i !== d && s !== first.shape[i])) {
      throw new ShapeError(
        `cat: sizes must match except in dim ${d}; expected ${shapeString(first.shape)}, got ${shapeString(t.shape)}`,
      );
    }
    dtype = promoteTypes(dtype, t.dtype);
    total += t.shape[d]!;
  }
  const outShape = first.shape.map((s, i) => (i === d ? total : s));
  const out = Tensor.empty(backend, dtype, outShape);
  const ov = out.view_();
  const parts: Tensor[] = tensors.map((t) => ew.cast(t, dtype));
  let offset = 0;
  for (const t of parts) {
    const n = t.shape[d]!;
    if (n > 0) {
      backend.run('copy', { ...ov, shape: t.shape, offset: offset * ov.strides[d]! }, [t.view_()], {});
    }
    offset += n;
  }
  traceOp('cat', out, parts, { dim: d });
  if (!isFloating(dtype)) return out;
  const starts: number[] = [];
  let acc = 0;
  for (const t of parts) {
    starts.push(acc);
    acc += t.shape[d]!;
  }
  return record(out, 'Cat', parts, (g) =>
    parts.map((t, i) => (t.requiresGrad ? g.narrow(d, starts[i]!, t.shape[d]!) : null)),
  );
}

/** Joins tensors of equal shape along a new dim, as torch.stack. */
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  const first = tensors[0];
  if (first === undefined)
    throw new ValueError('stack: expected a non-empty list of tensors; expected at least 1, got 0');
  for (const t of tensors) {
    if (t.dim() !== first.dim() || t.shape.some((s, i) => s !== first.shape[i])) {
      throw new ShapeError(
        `stack: every tensor must have the same shape; expected ${shapeString(first.shape)}, got ${shapeString(t.shape)}`,
      );
    }
  }
  const d = normalizeDim('stack', dim, first.dim() + 1);
  return cat(
    tensors.map((t) => t.unsqueeze(d)),
    d,
  );
}

/**
 * One-hot encoding of class indices, as torch.nn.functional.one_hot (int32 result).
 * Without `numClasses` it is max(index) + 1, which needs synchronous readback.
 */
export function oneHot(index: Tensor, numClasses = -1): Tensor {
  checkIndex('oneHot', index);
  let n = numClasses;
  const canRead = index.backend.capabilities.syncReadback;
  if (canRead && index.numel() > 0) {
    const values = index.dataSync();
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of values) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (lo < 0) throw new IndexError(`oneHot: class values must be non-negative; expected >= 0, got ${lo}`);
    if (n < 0) n = hi + 1;
    else if (hi >= n)
      throw new IndexError(`oneHot: class values must be smaller than numClasses; expected < ${n}, got ${hi}`);
  }
  if (n < 0) {
    if (!canRead)
      throw new ValueError(
        `oneHot: numClasses is required on backend '${index.backend.name}'; expected numClasses >= 0, got ${numClasses}`,
      );
    n = 0;
  }
  const classes = Tensor.fromArray(
    index.backend,
    'int32',
    [n],
    arrayFrom(
      'int32',
      Array.from({ length: n }, (_, i) => i),
    ),
  );
  return ew.cast(ew.eq(index.unsqueeze(-1), classes), 'int32');
}
