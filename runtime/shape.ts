/**
 * @module shape — shape and stride arithmetic shared by every layer.
 */
import { IndexError, ShapeError } from './errors.ts';

/** A tensor shape. */
export type Shape = readonly number[];

/** `[2,3]` → `"[2,3]"`, for error messages. */
export function shapeString(shape: Shape): string {
  return `[${shape.join(',')}]`;
}

/** The number of elements of a shape; 1 for a scalar. */
export function numelOf(shape: Shape): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}

/** Row-major strides, e.g. `contiguousStrides([2,3,4])` is `[12,4,1]`. */
export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = acc;
    acc *= Math.max(shape[i]!, 1);
  }
  return strides;
}

/** True when `strides` is row-major for `shape` (size-1 dims may have any stride). */
export function isContiguous(shape: Shape, strides: readonly number[]): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const s = shape[i]!;
    if (s === 0) return true;
    if (s !== 1 && strides[i] !== expected) return false;
    expected *= s;
  }
  return true;
}

/**
 * A dim index in `[-rank, rank)` made non-negative, as torch's maybe_wrap_dim.
 * @example normalizeDim('sum', -1, 3) // 2
 */
export function normalizeDim(op: string, dim: number, rank: number): number {
  const lo = -Math.max(rank, 1);
  const hi = Math.max(rank, 1);
  if (!Number.isInteger(dim) || dim < lo || dim >= hi) {
    throw new IndexError(`${op}: dim out of range; expected ${lo} <= dim < ${hi}, got ${dim}`);
  }
  return dim < 0 ? dim + hi : dim;
}

/**
 * The broadcast of two shapes by NumPy/PyTorch rules.
 * @example broadcastShapes('add', [2,1,3], [4,1]) // [2,4,3]
 */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(
        `${op}: shapes cannot broadcast; expected equal sizes or 1 at each dim, got ${shapeString(a)} and ${shapeString(b)}`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Checks a user-given shape: non-negative integers. */
export function checkShape(op: string, shape: Shape): void {
  for (const s of shape) {
    if (!Number.isInteger(s) || s < 0) {
      throw new ShapeError(`${op}: invalid shape; expected non-negative integer sizes, got ${shapeString(shape)}`);
    }
  }
}

/**
 * Resolves one -1 in a target shape, as torch's infer_size.
 * @example inferShape('view', [-1, 4], 12) // [3, 4]
 */
export function inferShape(op: string, shape: Shape, numel: number): number[] {
  let infer = -1;
  let known = 1;
  for (let i = 0; i < shape.length; i++) {
    const s = shape[i]!;
    if (s === -1) {
      if (infer >= 0)
        throw new ShapeError(
          `${op}: only one dimension can be inferred; expected at most one -1, got ${shapeString(shape)}`,
        );
      infer = i;
    } else if (!Number.isInteger(s) || s < 0) {
      throw new ShapeError(`${op}: invalid shape; expected non-negative sizes or -1, got ${shapeString(shape)}`);
    } else {
      known *= s;
    }
  }
  const out = [...shape];
  if (infer >= 0) {
    if (known === 0 || numel % known !== 0) {
      throw new ShapeError(
        `${op}: shape is invalid for input of size ${numel}; expected a shape whose product divides ${numel}, got ${shapeString(shape)}`,
      );
    }
    out[infer] = numel / known;
  } else if (known !== numel) {
    throw new ShapeError(
      `${op}: shape is invalid for input of size ${numel}; expected ${numel} elements, got ${shapeString(shape)}`,
    );
  }
  return out;
}

/**
 * Strides that view `(oldShape, oldStrides)` as `newShape` without copying, or
 * null when no such strides exist (torch's computeStride).
 */
export function viewStrides(oldShape: Shape, oldStrides: readonly number[], newShape: Shape): number[] | null {
  if (numelOf(oldShape) === 0 || oldShape.length === 0) return contiguousStrides(newShape);
  const newStrides = new Array<number>(newShape.length);
  let viewD = newShape.length - 1;
  let chunkBaseStride = oldStrides[oldStrides.length - 1] ?? 1;
  let tensorNumel = 1;
  let viewNumel = 1;
  for (let tensorD = oldShape.length - 1; tensorD >= 0; tensorD--) {
    tensorNumel *= oldShape[tensorD]!;
    if (tensorD === 0 || (oldShape[tensorD - 1] !== 1 && oldStrides[tensorD - 1] !== tensorNumel * chunkBaseStride)) {
      while (viewD >= 0 && (viewNumel < tensorNumel || newShape[viewD] === 1)) {
        newStrides[viewD] = viewNumel * chunkBaseStride;
        viewNumel *= newShape[viewD]!;
        viewD--;
      }
      if (viewNumel !== tensorNumel) return null;
      if (tensorD > 0) {
        chunkBaseStride = oldStrides[tensorD - 1]!;
        tensorNumel = 1;
        viewNumel = 1;
      }
    }
  }
  if (viewD !== -1) return null;
  return newStrides;
}
