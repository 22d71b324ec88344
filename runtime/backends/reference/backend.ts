/**
 * @module backends/reference/backend — the pure TypeScript backend: slow, bounds-checked, the living definition
 * of every primitive in `ops.ts`.
 *
 * Every other backend is tested against it. It computes in float64 (JS numbers) and then
 * stores into the output's typed array, so float32 results are the float64 result rounded
 * once, int32 results wrap modulo 2^32 and bool results are 0 or 1. The scalar formulas
 * live in `math.ts`. It checks the calling convention of `ops.ts` strictly
 * (dtypes, shapes, contiguity, every element index against its buffer) so that a misuse
 * by the tensor layer fails here with a clear error instead of reading garbage elsewhere.
 */
import type { Backend, BackendCapabilities, BufferHandle, MemoryInfo, TensorView } from '../../backend.ts';
import type { DType, StorageArray } from '../../dtype.ts';
import type { ActivationAttrs, BinaryOp, Im2colAttrs, OpAttrs, OpName, UnaryOp } from '../../ops.ts';
import { ACTIVATIONS, BINARY_OPS, COMPARISON_OPS, UNARY_OPS, opDTypes } from '../../ops.ts';
import { allocArray, bytesPerElement, checkDType, dtypeOfArray } from '../../dtype.ts';
import {
  BackendError, DisposedError, DTypeError, IndexError, NotImplementedOpError, ShapeError, ValueError,
} from '../../errors.ts';
import { activationGrad, binaryScalar, toDType, unaryScalar } from './math.ts';

const NAME = 'reference';
const ALL_DTYPES: readonly DType[] = ['float32', 'float64', 'int32', 'bool'];

/** A buffer's storage; `data` is null once the buffer is freed. */
interface Slot {
  data: StorageArray | null;
}

/** A validated view: its storage and the buffer index of each element in row-major order. */
interface Resolved {
  readonly view: TensorView;
  readonly data: StorageArray;
  readonly offsets: readonly number[];
}

/** `[2,3]`, for messages. */
function fmt(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/** The element count of a shape. */
function numel(shape: readonly number[]): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}

/** `arr[i]`, throwing an IndexError instead of returning undefined. */
function at(arr: readonly number[] | StorageArray, i: number, op: string): number {
  const v = arr[i];
  if (v === undefined) {
    throw new IndexError(`${op}: element index out of range; expected 0 <= index < ${arr.length}, got ${i}`);
  }
  return v;
}

/** Row-major contiguous strides of `shape`. */
function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= at(shape, d, 'strides');
  }
  return strides;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((s, i) => s === b[i]);
}

function checkInputCount(op: string, inputs: readonly TensorView[], expected: readonly number[]): void {
  if (!expected.includes(inputs.length)) {
    throw new ValueError(`${op}: wrong number of inputs; expected ${expected.join(' or ')}, got ${inputs.length}`);
  }
}

function checkShape(op: string, role: string, view: TensorView, shape: readonly number[]): void {
  if (!sameShape(view.shape, shape)) {
    throw new ShapeError(`${op}: ${role} has the wrong shape; expected ${fmt(shape)}, got ${fmt(view.shape)}`);
  }
}

function checkSameDType(op: string, role: string, view: TensorView, dtype: DType): void {
  if (view.dtype !== dtype) {
    throw new DTypeError(`${op}: ${role} has the wrong dtype; expected ${dtype}, got ${view.dtype}`);
  }
}

/**
 * Contiguous once the stride-0 (broadcast) dims are dropped: gather's index, which ops.ts
 * lets broadcast along any dim.
 */
function checkContiguousOrBroadcast(op: string, role: string, view: TensorView): void {
  if (numel(view.shape) === 0) return;
  let expected = 1;
  for (let d = view.shape.length - 1; d >= 0; d--) {
    const size = view.shape[d] as number;
    const stride = view.strides[d] as number;
    if (size === 1 || stride === 0) continue;
    if (stride !== expected) {
      throw new ShapeError(`${op}: ${role} must be contiguous or broadcast (stride 0); expected row-major strides over the other dims, got ${fmt(view.strides)} for shape ${fmt(view.shape)}`);
    }
    expected *= size;
  }
}

/** Row-major contiguity as torch's is_contiguous sees it: dims of size 1 may have any stride. */
function checkContiguous(op: string, role: string, view: TensorView): void {
  if (numel(view.shape) === 0) return;
  const expected = contiguousStrides(view.shape);
  const ok = view.shape.every((s, d) => s === 1 || view.strides[d] === expected[d]);
  if (!ok) {
    throw new ShapeError(`${op}: ${role} must be contiguous; expected strides ${fmt(expected)}, got ${fmt(view.strides)}`);
  }
}

function checkAxis(op: string, axis: number, rank: number): void {
  if (!Number.isInteger(axis) || axis < 0 || axis >= rank) {
    throw new IndexError(`${op}: axis out of range; expected an integer 0 <= axis < ${rank}, got ${axis}`);
  }
}

function checkActivationAttrs(op: string, attrs: ActivationAttrs, names: readonly (keyof ActivationAttrs)[]): void {
  for (const name of names) {
    const v: unknown = (attrs as unknown as Record<string, unknown>)[name];
    if (typeof v !== 'number') {
      throw new ValueError(`${op}: attribute ${name} is missing; expected a number, got ${String(v)}`);
    }
  }
}

/** Which ActivationAttrs fields an activation reads. */
function activationAttrNames(fn: string): readonly (keyof ActivationAttrs)[] {
  switch (fn) {
    case 'softplus': return ['beta', 'threshold'];
    case 'elu': case 'leaky_relu': return ['alpha'];
    default: return [];
  }
}

/**
 * A new reference backend: pure TypeScript, every dtype, synchronous readback.
 * @example
 * const be = createReferenceBackend();
 * const x = be.alloc('float32', 2);
 * be.write(x, new Float32Array([-1, 2]));
 * const y = be.alloc('float32', 2);
 * const v = (b: BufferHandle) => ({ buffer: b, dtype: 'float32', shape: [2], strides: [1], offset: 0 } as const);
 * be.run('relu', v(y), [v(x)], {});
 * be.readSync(y, 0, 2); // Float32Array [0, 2]
 */
export function createReferenceBackend(): Backend {
  const slots = new WeakMap<BufferHandle, Slot>();
  const live = new Set<BufferHandle>();
  let nextId = 1;
  let disposed = false;

  const capabilities: BackendCapabilities = { dtypes: ALL_DTYPES, syncReadback: true };

  function checkAlive(what: string): void {
    if (disposed) throw new DisposedError(`${what}: the backend is disposed; expected a live backend, got ${NAME} after dispose()`);
  }

  /** The storage of a live buffer of this backend. */
  function storage(op: string, buffer: BufferHandle): StorageArray {
    checkAlive(op);
    const slot = slots.get(buffer);
    if (slot === undefined) {
      throw new BackendError(`${op}: buffer belongs to another backend; expected a buffer of ${NAME}, got buffer ${buffer.id}`);
    }
    if (slot.data === null) {
      throw new DisposedError(`${op}: buffer was freed; expected a live buffer, got freed buffer ${buffer.id}`);
    }
    return slot.data;
  }

  /**
   * Validates a view against its buffer and lists the buffer index of each element
   * (row-major). Any element outside the buffer throws an IndexError.
   */
  function resolve(op: string, role: string, view: TensorView): Resolved {
    const data = storage(op, view.buffer);
    if (view.dtype !== view.buffer.dtype) {
      throw new DTypeError(`${op}: ${role} view dtype differs from its buffer; expected ${view.buffer.dtype}, got ${view.dtype}`);
    }
    const { shape, strides, offset } = view;
    if (shape.length !== strides.length) {
      throw new ShapeError(`${op}: ${role} has one stride per dim; expected ${shape.length} strides, got ${fmt(strides)}`);
    }
    if (!shape.every((s) => Number.isInteger(s) && s >= 0)) {
      throw new ShapeError(`${op}: ${role} shape must be non-negative integers; expected e.g. [2,3], got ${fmt(shape)}`);
    }
    if (!strides.every((s) => Number.isInteger(s))) {
      throw new ShapeError(`${op}: ${role} strides must be integers; expected e.g. [3,1], got ${fmt(strides)}`);
    }
    if (!Number.isInteger(offset) || offset < 0) {
      throw new IndexError(`${op}: ${role} offset out of range; expected an integer >= 0, got ${offset}`);
    }
    const n = numel(shape);
    const offsets = new Array<number>(n);
    if (n === 0) return { view, data, offsets };
    let lo = offset;
    let hi = offset;
    for (let d = 0; d < shape.length; d++) {
      const reach = (at(shape, d, op) - 1) * at(strides, d, op);
      if (reach < 0) lo += reach;
      else hi += reach;
    }
    if (lo < 0 || hi >= data.length) {
      throw new IndexError(
        `${op}: ${role} view reaches outside its buffer; expected element indices in [0, ${data.length}), got [${lo}, ${hi}]`,
      );
    }
    const rank = shape.length;
    const idx = new Array<number>(rank).fill(0);
    let pos = offset;
    for (let i = 0; i < n; i++) {
      offsets[i] = pos;
      for (let d = rank - 1; d >= 0; d--) {
        const size = at(shape, d, op);
        const stride = at(strides, d, op);
        const next = at(idx, d, op) + 1;
        if (next < size) {
          idx[d] = next;
          pos += stride;
          break;
        }
        idx[d] = 0;
        pos -= stride * (size - 1);
      }
    }
    return { view, data, offsets };
  }

  /** The elements of a resolved view, in row-major order, as float64. */
  function load(op: string, r: Resolved): number[] {
    return r.offsets.map((o) => at(r.data, o, op));
  }

  /** Stores float64 `values` (row-major) into a resolved view, converting to its dtype. */
  function store(op: string, r: Resolved, values: readonly number[]): void {
    const dtype = r.view.dtype;
    r.offsets.forEach((o, i) => {
      if (o < 0 || o >= r.data.length) {
        throw new IndexError(`${op}: element index out of range; expected 0 <= index < ${r.data.length}, got ${o}`);
      }
      r.data[o] = toDType(dtype, at(values, i, op));
    });
  }

  /**
   * Shared driver of the elementwise ops: every input has out's shape (any strides), all
   * inputs are read before out is written, so aliasing out with an input is well defined.
   */
  function elementwise(
    op: string, out: TensorView, inputs: readonly TensorView[], fn: (xs: readonly number[]) => number,
    options: { readonly contiguousOut: boolean },
  ): void {
    const o = resolve(op, 'out', out);
    if (options.contiguousOut) checkContiguous(op, 'out', out);
    const cols = inputs.map((v, i) => {
      checkShape(op, `input ${i}`, v, out.shape);
      return load(op, resolve(op, `input ${i}`, v));
    });
    const n = o.offsets.length;
    const results = new Array<number>(n);
    const xs = new Array<number>(cols.length);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < cols.length; j++) xs[j] = at(cols[j] ?? [], i, op);
      results[i] = fn(xs);
    }
    store(op, o, results);
  }

  function runUnary(op: UnaryOp, out: TensorView, inputs: readonly TensorView[], attrs: OpAttrs[UnaryOp]): void {
    checkInputCount(op, inputs, [1]);
    const x = inputs[0] as TensorView;
    checkDType(op, x.dtype, opDTypes(op));
    checkSameDType(op, 'out', out, x.dtype);
    const names = activationAttrNames(op);
    if (names.length > 0) checkActivationAttrs(op, attrs as ActivationAttrs, names);
    if (op === 'clamp') {
      const { min, max } = attrs as OpAttrs['clamp'];
      if ((min !== null && typeof min !== 'number') || (max !== null && typeof max !== 'number')) {
        throw new ValueError(`clamp: bounds must be numbers or null; expected {min, max}, got {${String(min)}, ${String(max)}}`);
      }
    }
    const f = unaryScalar(op, x.dtype, attrs);
    elementwise(op, out, inputs, (xs) => f(xs[0] ?? NaN), { contiguousOut: true });
  }

  function runBinary(op: BinaryOp, out: TensorView, inputs: readonly TensorView[]): void {
    checkInputCount(op, inputs, [2]);
    const [a, b] = inputs as readonly [TensorView, TensorView];
    checkDType(op, a.dtype, opDTypes(op));
    checkSameDType(op, 'input 1', b, a.dtype);
    const isComparison = (COMPARISON_OPS as readonly string[]).includes(op);
    checkSameDType(op, 'out', out, isComparison ? 'bool' : a.dtype);
    const f = binaryScalar(op, a.dtype);
    elementwise(op, out, inputs, (xs) => f(xs[0] ?? NaN, xs[1] ?? NaN), { contiguousOut: true });
  }

  function runWhere(out: TensorView, inputs: readonly TensorView[]): void {
    checkInputCount('where', inputs, [3]);
    const [cond, a, b] = inputs as readonly [TensorView, TensorView, TensorView];
    checkSameDType('where', 'condition', cond, 'bool');
    checkDType('where', a.dtype, opDTypes('where'));
    checkSameDType('where', 'input 2', b, a.dtype);
    checkSameDType('where', 'out', out, a.dtype);
    // torch.where: cond ? a : b, elementwise; a nonzero byte counts as true.
    elementwise('where', out, inputs, (xs) => ((xs[0] ?? 0) !== 0 ? xs[1] ?? NaN : xs[2] ?? NaN), { contiguousOut: true });
  }

  function runReduce(op: 'sum' | 'max' | 'min' | 'argmax' | 'argmin', out: TensorView, inputs: readonly TensorView[], axis: number): void {
    checkInputCount(op, inputs, [1]);
    const x = inputs[0] as TensorView;
    checkDType(op, x.dtype, opDTypes(op));
    const isArg = op === 'argmax' || op === 'argmin';
    checkSameDType(op, 'out', out, isArg ? 'int32' : x.dtype);
    checkAxis(op, axis, x.shape.length);
    const outShape = x.shape.map((s, d) => (d === axis ? 1 : s));
    checkShape(op, 'out', out, outShape);
    checkContiguous(op, 'input', x);
    checkContiguous(op, 'out', out);
    const values = load(op, resolve(op, 'input', x));
    const o = resolve(op, 'out', out);
    const n = at(x.shape, axis, op);
    if (n === 0 && op !== 'sum' && o.offsets.length > 0) {
      throw new IndexError(`${op}: cannot reduce an empty axis; expected shape[${axis}] > 0, got ${fmt(x.shape)}`);
    }
    const inner = numel(x.shape.slice(axis + 1));
    const outer = numel(x.shape.slice(0, axis));
    const isInt = x.dtype === 'int32';
    const results = new Array<number>(outer * inner);
    for (let p = 0; p < outer; p++) {
      for (let q = 0; q < inner; q++) {
        const base = p * n * inner + q;
        let r: number;
        if (op === 'sum') {
          // Index order, accumulated in float64 and rounded once (int32 wraps modulo 2^32).
          r = 0;
          for (let k = 0; k < n; k++) {
            const v = at(values, base + k * inner, op);
            r = isInt ? (r + v) | 0 : r + v;
          }
        } else {
          // torch max/min propagate NaN; argmax/argmin give the first index of the extreme,
          // and the first NaN's index when there is a NaN (as torch.argmax).
          const wantMax = op === 'max' || op === 'argmax';
          let best = at(values, base, op);
          let bestK = 0;
          for (let k = 1; k < n && !Number.isNaN(best); k++) {
            const v = at(values, base + k * inner, op);
            if (Number.isNaN(v) || (wantMax ? v > best : v < best)) {
              best = v;
              bestK = k;
            }
          }
          r = isArg ? bestK : best;
        }
        results[p * inner + q] = r;
      }
    }
    store(op, o, results);
  }

  function runMatmul(out: TensorView, inputs: readonly TensorView[]): void {
    const op = 'matmul';
    checkInputCount(op, inputs, [2, 3]);
    const [a, b, bias] = inputs as readonly [TensorView, TensorView, TensorView | undefined];
    checkDType(op, a.dtype, opDTypes(op));
    checkSameDType(op, 'b', b, a.dtype);
    checkSameDType(op, 'out', out, a.dtype);
    if (a.shape.length !== 3 || b.shape.length !== 3) {
      throw new ShapeError(`${op}: inputs must be 3-D; expected [B,M,K] @ [B,K,N], got ${fmt(a.shape)} @ ${fmt(b.shape)}`);
    }
    const [ba, m, ka] = a.shape as readonly [number, number, number];
    const [bb, kb, n] = b.shape as readonly [number, number, number];
    if (ka !== kb) {
      throw new ShapeError(`${op}: inner dimensions differ; expected a[-1] == b[-2], got ${fmt(a.shape)} @ ${fmt(b.shape)}`);
    }
    if (out.shape.length !== 3) {
      throw new ShapeError(`${op}: out must be 3-D; expected [B,M,N], got ${fmt(out.shape)}`);
    }
    const batch = at(out.shape, 0, op);
    if ((ba !== batch && ba !== 1) || (bb !== batch && bb !== 1)) {
      throw new ShapeError(`${op}: batch sizes differ; expected a[0] and b[0] equal to out[0] = ${batch} (or 1), got ${fmt(a.shape)} @ ${fmt(b.shape)}`);
    }
    checkShape(op, 'out', out, [batch, m, n]);
    checkContiguous(op, 'out', out);
    if (bias !== undefined) {
      checkSameDType(op, 'bias', bias, a.dtype);
      checkShape(op, 'bias', bias, [n]);
    }
    // The reference reads any strides (transposed layouts, batch stride 0 and others alike).
    const av = load(op, resolve(op, 'a', a));
    const bv = load(op, resolve(op, 'b', b));
    const biasv = bias === undefined ? undefined : load(op, resolve(op, 'bias', bias));
    const o = resolve(op, 'out', out);
    const k = ka;
    const results = new Array<number>(batch * m * n);
    for (let t = 0; t < batch; t++) {
      const aBase = (ba === 1 ? 0 : t) * m * k;
      const bBase = (bb === 1 ? 0 : t) * k * n;
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          // Dot product in index order of k, in float64; torch's addmm adds the bias after.
          let acc = 0;
          for (let p = 0; p < k; p++) acc += at(av, aBase + i * k + p, op) * at(bv, bBase + p * n + j, op);
          if (biasv !== undefined) acc += at(biasv, j, op);
          results[(t * m + i) * n + j] = acc;
        }
      }
    }
    store(op, o, results);
  }

  function runGather(out: TensorView, inputs: readonly TensorView[], axis: number): void {
    const op = 'gather';
    checkInputCount(op, inputs, [2]);
    const [x, index] = inputs as readonly [TensorView, TensorView];
    checkDType(op, x.dtype, opDTypes(op));
    checkSameDType(op, 'index', index, 'int32');
    checkSameDType(op, 'out', out, x.dtype);
    if (index.shape.length !== x.shape.length) {
      throw new ShapeError(`${op}: index and input ranks differ; expected rank ${x.shape.length}, got ${fmt(index.shape)}`);
    }
    checkAxis(op, axis, x.shape.length);
    checkIndexFits(op, index.shape, x.shape, axis);
    checkShape(op, 'out', out, index.shape);
    checkContiguous(op, 'input', x);
    checkContiguousOrBroadcast(op, 'index', index);
    checkContiguous(op, 'out', out);
    const xv = load(op, resolve(op, 'input', x));
    const iv = load(op, resolve(op, 'index', index));
    const o = resolve(op, 'out', out);
    const xStrides = contiguousStrides(x.shape);
    const limit = at(x.shape, axis, op);
    const results = iv.map((idx, flat) => {
      checkIndexValue(op, idx, limit);
      // torch.gather: out[..., j, ...] = x[..., index[..., j, ...], ...] along axis.
      const pos = unravel(flat, index.shape);
      pos[axis] = idx;
      return at(xv, dot(pos, xStrides), op);
    });
    store(op, o, results);
  }

  function runScatterAdd(out: TensorView, inputs: readonly TensorView[], axis: number): void {
    const op = 'scatter_add';
    checkInputCount(op, inputs, [3]);
    const [base, index, src] = inputs as readonly [TensorView, TensorView, TensorView];
    checkDType(op, base.dtype, opDTypes(op));
    checkSameDType(op, 'index', index, 'int32');
    checkSameDType(op, 'src', src, base.dtype);
    checkSameDType(op, 'out', out, base.dtype);
    if (index.shape.length !== base.shape.length) {
      throw new ShapeError(`${op}: index and input ranks differ; expected rank ${base.shape.length}, got ${fmt(index.shape)}`);
    }
    checkAxis(op, axis, base.shape.length);
    checkShape(op, 'src', src, index.shape);
    checkIndexFits(op, index.shape, base.shape, axis);
    checkShape(op, 'out', out, base.shape);
    for (const [role, v] of [['base', base], ['index', index], ['src', src], ['out', out]] as const) checkContiguous(op, role, v);
    const acc = load(op, resolve(op, 'base', base));
    const iv = load(op, resolve(op, 'index', index));
    const sv = load(op, resolve(op, 'src', src));
    const o = resolve(op, 'out', out);
    const baseStrides = contiguousStrides(base.shape);
    const limit = at(base.shape, axis, op);
    const isInt = base.dtype === 'int32';
    // Validate every index before adding anything, so a bad index leaves out untouched.
    iv.forEach((idx) => checkIndexValue(op, idx, limit));
    iv.forEach((idx, flat) => {
      // torch.scatter_add: out[..., index[..., j, ...], ...] += src[..., j, ...], in index order,
      // accumulated in float64 and rounded once when stored (int32 wraps).
      const pos = unravel(flat, index.shape);
      pos[axis] = idx;
      const target = dot(pos, baseStrides);
      const sum = at(acc, target, op) + at(sv, flat, op);
      acc[target] = isInt ? sum | 0 : sum;
    });
    store(op, o, acc);
  }

  function runUnaryBackward(out: TensorView, inputs: readonly TensorView[], attrs: OpAttrs['unary_backward']): void {
    const op = 'unary_backward';
    checkInputCount(op, inputs, [2]);
    const [x, grad] = inputs as readonly [TensorView, TensorView];
    if (!(ACTIVATIONS as readonly string[]).includes(attrs.fn)) {
      throw new ValueError(`${op}: unknown activation; expected one of ${ACTIVATIONS.join(', ')}, got ${String(attrs.fn)}`);
    }
    checkActivationAttrs(op, attrs, activationAttrNames(attrs.fn));
    checkDType(op, x.dtype, opDTypes(op));
    checkSameDType(op, 'gradOut', grad, x.dtype);
    checkSameDType(op, 'out', out, x.dtype);
    const f = activationGrad(attrs.fn, attrs);
    elementwise(op, out, inputs, (xs) => f(xs[0] ?? NaN, xs[1] ?? NaN), { contiguousOut: true });
  }

  /**
   * The shared checks of im2col/col2im: image `[N, C, H, W]`, columns `[N, C·kH·kW, oH, oW]`,
   * both contiguous, one float dtype, integer geometry.
   */
  function checkIm2col(op: string, image: TensorView, cols: TensorView, a: Im2colAttrs): void {
    checkDType(op, image.dtype, opDTypes(op as OpName));
    checkSameDType(op, 'columns', cols, image.dtype);
    for (const k of ['kernelH', 'kernelW', 'strideH', 'strideW', 'dilationH', 'dilationW', 'padH', 'padW'] as const) {
      const v: unknown = (a as unknown as Record<string, unknown>)[k];
      const min = k.startsWith('pad') ? 0 : 1;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
        throw new ValueError(`${op}: attribute ${k} must be an integer >= ${min}; expected e.g. ${min + 1}, got ${String(v)}`);
      }
    }
    if (image.shape.length !== 4) {
      throw new ShapeError(`${op}: image must be 4-D; expected [N,C,H,W], got ${fmt(image.shape)}`);
    }
    const [n, c] = image.shape as readonly [number, number];
    if (cols.shape.length !== 4 || cols.shape[0] !== n || cols.shape[1] !== c * a.kernelH * a.kernelW) {
      throw new ShapeError(`${op}: columns have the wrong shape; expected [${n},${c * a.kernelH * a.kernelW},oH,oW], got ${fmt(cols.shape)}`);
    }
    checkContiguous(op, 'image', image);
    checkContiguous(op, 'columns', cols);
  }

  /**
   * Calls `visit(colIndex, imageIndex)` for every column element in row-major order,
   * with imageIndex −1 where the window reads padding.
   */
  function walkIm2col(image: readonly number[], cols: readonly number[], a: Im2colAttrs, visit: (col: number, img: number) => void): void {
    const [n, c, h, w] = image as readonly [number, number, number, number];
    const oh = at(cols, 2, 'im2col');
    const ow = at(cols, 3, 'im2col');
    let col = 0;
    for (let plane = 0; plane < n * c; plane++) {
      for (let ki = 0; ki < a.kernelH; ki++) {
        for (let kj = 0; kj < a.kernelW; kj++) {
          for (let y = 0; y < oh; y++) {
            const ih = y * a.strideH - a.padH + ki * a.dilationH;
            for (let x = 0; x < ow; x++, col++) {
              const iw = x * a.strideW - a.padW + kj * a.dilationW;
              visit(col, ih >= 0 && ih < h && iw >= 0 && iw < w ? (plane * h + ih) * w + iw : -1);
            }
          }
        }
      }
    }
  }

  function runIm2col(out: TensorView, inputs: readonly TensorView[], attrs: OpAttrs['im2col']): void {
    const op = 'im2col';
    checkInputCount(op, inputs, [1]);
    const x = inputs[0] as TensorView;
    checkIm2col(op, x, out, attrs);
    checkSameDType(op, 'out', out, x.dtype);
    if (typeof attrs.padValue !== 'number') {
      throw new ValueError(`${op}: attribute padValue is missing; expected a number, got ${String(attrs.padValue)}`);
    }
    const xv = load(op, resolve(op, 'input', x));
    const o = resolve(op, 'out', out);
    const results = new Array<number>(o.offsets.length);
    walkIm2col(x.shape, out.shape, attrs, (col, img) => { results[col] = img < 0 ? attrs.padValue : at(xv, img, op); });
    store(op, o, results);
  }

  function runCol2im(out: TensorView, inputs: readonly TensorView[], attrs: OpAttrs['col2im']): void {
    const op = 'col2im';
    checkInputCount(op, inputs, [1]);
    const cols = inputs[0] as TensorView;
    checkIm2col(op, out, cols, attrs);
    checkSameDType(op, 'input', cols, out.dtype);
    const cv = load(op, resolve(op, 'input', cols));
    const o = resolve(op, 'out', out);
    // Accumulated in float64 in the columns' row-major order, rounded once when stored.
    const results = new Array<number>(o.offsets.length).fill(0);
    walkIm2col(out.shape, cols.shape, attrs, (col, img) => {
      if (img >= 0) results[img] = at(results, img, op) + at(cv, col, op);
    });
    store(op, o, results);
  }

  function runAdam(out: TensorView, inputs: readonly TensorView[], a: OpAttrs['adam']): void {
    const op = 'adam';
    const width = a.amsgrad ? 5 : 4;
    if (!Number.isInteger(a.count) || a.count < 1) {
      throw new ValueError(`${op}: attribute count must be a positive integer; expected count >= 1, got ${String(a.count)}`);
    }
    checkInputCount(op, inputs, [a.count * width]);
    const p0 = inputs[0] as TensorView;
    checkDType(op, p0.dtype, opDTypes(op));
    // out only names the first param (ops.ts's AdamAttrs): every param is written in place.
    if (out.buffer !== p0.buffer || out.offset !== p0.offset || numel(out.shape) !== numel(p0.shape)) {
      throw new ShapeError(`${op}: out must be the first param itself; expected a view of buffer ${p0.buffer.id} at offset ${p0.offset} with ${numel(p0.shape)} elements, got buffer ${out.buffer.id} at offset ${out.offset} with ${numel(out.shape)}`);
    }
    for (const k of ['lr', 'beta1', 'beta2', 'eps', 'weightDecay', 'stepSize', 'bc2Sqrt'] as const) {
      if (typeof a[k] !== 'number') throw new ValueError(`${op}: attribute ${k} is missing; expected a number, got ${String(a[k])}`);
    }
    const roles = ['param', 'grad', 'expAvg', 'expAvgSq', 'maxExpAvgSq'];
    const entries: TensorView[][] = [];
    for (let e = 0; e < a.count; e++) {
      const entry = inputs.slice(e * width, (e + 1) * width);
      const n = numel((entry[0] as TensorView).shape);
      entry.forEach((v, i) => {
        const role = `entry ${e} ${roles[i] ?? 'input'}`;
        checkSameDType(op, role, v, p0.dtype);
        if (numel(v.shape) !== n) throw new ShapeError(`${op}: ${role} has the wrong numel; expected ${n} (its param's), got ${numel(v.shape)} (shape ${fmt(v.shape)})`);
        checkContiguous(op, role, v);
      });
      entries.push(entry);
    }
    // Every operation rounds to the dtype, as torch's sequence of float32 tensor ops does,
    // and each scalar factor is formed in float64 and then taken at the dtype.
    const r = (v: number): number => toDType(p0.dtype, v);
    const decay = r(1 - a.lr * a.weightDecay);
    const wd = r(a.weightDecay);
    const b1 = r(a.beta1);
    const c1 = r(1 - a.beta1);
    const b2 = r(a.beta2);
    const c2 = r(1 - a.beta2);
    const negStep = r(-a.stepSize);
    const bc2 = r(a.bc2Sqrt);
    const eps = r(a.eps);
    // ops.ts: subnormal m and v become a zero of their sign
    const smallest = p0.dtype === 'float32' ? 2 ** -126 : 2 ** -1022;
    const flush = (x: number): number => (Math.abs(x) < smallest ? (x < 0 || Object.is(x, -0) ? -0 : 0) : x);
    for (const entry of entries) {
      const [pv, gv, mv, vv, xv] = entry.map((v, i) => load(op, resolve(op, roles[i] ?? 'input', v)));
      const n = (pv as number[]).length;
      const po = new Array<number>(n);
      const mo = new Array<number>(n);
      const vo = new Array<number>(n);
      const xo = new Array<number>(a.amsgrad ? n : 0);
      for (let i = 0; i < n; i++) {
        let g = at(gv as number[], i, op);
        let pi = at(pv as number[], i, op);
        if (a.maximize) g = -g;
        if (a.decoupled) pi = r(pi * decay);
        else if (a.weightDecay !== 0) g = r(g + r(wd * pi));
        const m = flush(r(r(at(mv as number[], i, op) * b1) + r(g * c1)));
        const v = flush(r(r(at(vv as number[], i, op) * b2) + r(r(g * c2) * g)));
        let second = v;
        if (a.amsgrad) {
          const prev = at(xv as number[], i, op);
          // torch.maximum propagates NaN.
          second = Number.isNaN(prev) || Number.isNaN(v) ? NaN : Math.max(prev, v);
          xo[i] = second;
        }
        const denom = r(r(r(Math.sqrt(second)) / bc2) + eps);
        po[i] = r(pi + r(r(negStep * m) / denom));
        mo[i] = m;
        vo[i] = v;
      }
      store(op, resolve(op, 'expAvg', entry[2] as TensorView), mo);
      store(op, resolve(op, 'expAvgSq', entry[3] as TensorView), vo);
      if (a.amsgrad) store(op, resolve(op, 'maxExpAvgSq', entry[4] as TensorView), xo);
      store(op, resolve(op, 'param', entry[0] as TensorView), po);
    }
  }

  function runCopy(out: TensorView, inputs: readonly TensorView[]): void {
    checkInputCount('copy', inputs, [1]);
    const x = inputs[0] as TensorView;
    checkDType('copy', x.dtype, opDTypes('copy'));
    checkSameDType('copy', 'out', out, x.dtype);
    // Any strides on both sides. The input is read in full first, so overlap is well defined.
    elementwise('copy', out, inputs, (xs) => xs[0] ?? NaN, { contiguousOut: false });
  }

  function runCast(out: TensorView, inputs: readonly TensorView[]): void {
    checkInputCount('cast', inputs, [1]);
    const x = inputs[0] as TensorView;
    checkDType('cast', x.dtype, opDTypes('cast'));
    checkDType('cast', out.dtype, opDTypes('cast'));
    // The conversion is toDType (applied by store), except that float → int32 truncates
    // toward zero and saturates (NaN → 0), as wasm's i32.trunc_sat_f32_s: torch leaves
    // out-of-range conversions undefined, and saturation is what every backend can match.
    // → bool is x != 0; → float32 rounds to nearest.
    const saturate = out.dtype === 'int32' && (x.dtype === 'float32' || x.dtype === 'float64');
    elementwise('cast', out, inputs, (xs) => {
      const v = xs[0] ?? NaN;
      if (!saturate) return v;
      if (Number.isNaN(v)) return 0;
      return Math.trunc(Math.min(Math.max(v, -2147483648), 2147483647));
    }, { contiguousOut: true });
  }

  function runFill(out: TensorView, inputs: readonly TensorView[], value: number): void {
    checkInputCount('fill', inputs, [0]);
    checkDType('fill', out.dtype, opDTypes('fill'));
    if (typeof value !== 'number') {
      throw new ValueError(`fill: value must be a number; expected e.g. 0, got ${String(value)}`);
    }
    // The value is converted as cast converts (2.7 → 2 in int32, NaN → true in bool).
    elementwise('fill', out, inputs, () => value, { contiguousOut: true });
  }

  const backend: Backend = {
    name: NAME,
    capabilities,

    alloc(dtype: DType, length: number): BufferHandle {
      checkAlive('alloc');
      checkDType('alloc', dtype, ALL_DTYPES);
      if (!Number.isInteger(length) || length < 0) {
        throw new ValueError(`alloc: length must be a non-negative integer; expected e.g. 4, got ${length}`);
      }
      const handle: BufferHandle = Object.freeze({ id: nextId++, dtype, length });
      slots.set(handle, { data: allocArray(dtype, length) });
      live.add(handle);
      return handle;
    },

    free(buffer: BufferHandle): void {
      storage('free', buffer);
      const slot = slots.get(buffer);
      if (slot !== undefined) slot.data = null;
      live.delete(buffer);
    },

    write(buffer: BufferHandle, data: StorageArray, offset = 0): void {
      const target = storage('write', buffer);
      const dtype = dtypeOfArray(data);
      if (dtype !== buffer.dtype) {
        throw new DTypeError(`write: data dtype differs from the buffer; expected ${buffer.dtype}, got ${dtype}`);
      }
      if (!Number.isInteger(offset) || offset < 0 || offset + data.length > target.length) {
        throw new IndexError(`write: range outside the buffer; expected offset + length <= ${target.length}, got ${offset} + ${data.length}`);
      }
      target.set(data, offset);
    },

    async read(buffer: BufferHandle, offset: number, length: number): Promise<StorageArray> {
      return backend.readSync(buffer, offset, length);
    },

    readSync(buffer: BufferHandle, offset: number, length: number): StorageArray {
      const source = storage('read', buffer);
      if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > source.length) {
        throw new IndexError(`read: range outside the buffer; expected offset + length <= ${source.length}, got ${offset} + ${length}`);
      }
      return source.slice(offset, offset + length);
    },

    run<O extends OpName>(op: O, out: TensorView, inputs: readonly TensorView[], attrs: OpAttrs[O]): void {
      checkAlive(op);
      const name: string = op;
      if ((UNARY_OPS as readonly string[]).includes(name)) {
        runUnary(name as UnaryOp, out, inputs, attrs as OpAttrs[UnaryOp]);
        return;
      }
      if ((BINARY_OPS as readonly string[]).includes(name)) {
        runBinary(name as BinaryOp, out, inputs);
        return;
      }
      const a = attrs as OpAttrs[OpName];
      switch (name) {
        case 'where': return runWhere(out, inputs);
        case 'sum': case 'max': case 'min': case 'argmax': case 'argmin':
          return runReduce(name, out, inputs, (a as OpAttrs['sum']).axis);
        case 'matmul': return runMatmul(out, inputs);
        case 'copy': return runCopy(out, inputs);
        case 'cast': return runCast(out, inputs);
        case 'fill': return runFill(out, inputs, (a as OpAttrs['fill']).value);
        case 'gather': return runGather(out, inputs, (a as OpAttrs['gather']).axis);
        case 'scatter_add': return runScatterAdd(out, inputs, (a as OpAttrs['scatter_add']).axis);
        case 'unary_backward': return runUnaryBackward(out, inputs, a as OpAttrs['unary_backward']);
        case 'im2col': return runIm2col(out, inputs, a as OpAttrs['im2col']);
        case 'col2im': return runCol2im(out, inputs, a as OpAttrs['col2im']);
        case 'adam': return runAdam(out, inputs, a as OpAttrs['adam']);
        default:
          throw new NotImplementedOpError(`${name}: op not implemented on backend ${NAME}; expected a primitive from ops.ts, got '${name}'`);
      }
    },

    memory(): MemoryInfo {
      let reservedBytes = 0;
      for (const h of live) reservedBytes += h.length * bytesPerElement(h.dtype);
      return { liveBuffers: live.size, reservedBytes };
    },

    dispose(): void {
      for (const h of live) {
        const slot = slots.get(h);
        if (slot !== undefined) slot.data = null;
      }
      live.clear();
      disposed = true;
    },
  };
  return backend;
}

/** Row-major multi-index of flat position `flat` in `shape`. */
function unravel(flat: number, shape: readonly number[]): number[] {
  const pos = new Array<number>(shape.length);
  let rest = flat;
  for (let d = shape.length - 1; d >= 0; d--) {
    const s = at(shape, d, 'unravel');
    pos[d] = rest % s;
    rest = Math.floor(rest / s);
  }
  return pos;
}

function dot(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += at(a, i, 'dot') * at(b, i, 'dot');
  return s;
}

/** torch: index.size(d) <= input.size(d) for every d != axis. */
function checkIndexFits(op: string, index: readonly number[], input: readonly number[], axis: number): void {
  const ok = index.every((s, d) => d === axis || s <= at(input, d, op));
  if (!ok) {
    throw new ShapeError(`${op}: index is larger than the input outside the axis; expected index.shape[d] <= ${fmt(input)}[d] for d != ${axis}, got ${fmt(index)}`);
  }
}

function checkIndexValue(op: string, idx: number, limit: number): void {
  if (!(idx >= 0 && idx < limit)) {
    throw new IndexError(`${op}: index out of range; expected 0 <= index < ${limit}, got ${idx}`);
  }
}
