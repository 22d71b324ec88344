/**
 * @module backends/reference/backend — the pure TypeScript backend: slow, bounds-checked, the living definition
 * of every primitive in `ops.ts`.
 *
 * Every other backend is tested against it. It computes in float64 (JS numbers) and then
 * stores into the output's typed array, so float32 results are the float64 result rounded
 * once, int32 results wrap modulo 2^32 and bool results are 0 or 1. The scalar formulas
 * live in `math.ts`. The calling convention of `ops.ts` is checked once for every backend
 * (`checkOp` in op-check.ts, first thing in `run`); what stays here is this backend's own
 * state (freed and foreign buffers), bounds-checked element access, and index values.
 */
import type { Backend, BackendCapabilities, BufferHandle, MemoryInfo, OpTable, TensorView } from '../../backend.ts';
import type { DType, StorageArray } from '../../dtype.ts';
import type { BinaryOp, Im2colAttrs, OpAttrs, OpName, ReduceOp, UnaryOp } from '../../ops.ts';
import { opDTypes } from '../../ops.ts';
import type { OpCheckTarget } from '../../op-check.ts';
import { checkOp } from '../../op-check.ts';
import { allocArray, bytesPerElement, checkDType, dtypeOfArray } from '../../dtype.ts';
import { BackendError, DisposedError, DTypeError, IndexError, ValueError } from '../../errors.ts';
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
    if (disposed)
      throw new DisposedError(`${what}: the backend is disposed; expected a live backend, got ${NAME} after dispose()`);
  }

  /** The storage of a live buffer of this backend. */
  function storage(op: string, buffer: BufferHandle): StorageArray {
    checkAlive(op);
    const slot = slots.get(buffer);
    if (slot === undefined) {
      throw new BackendError(
        `${op}: buffer belongs to another backend; expected a buffer of ${NAME}, got buffer ${buffer.id}`,
      );
    }
    if (slot.data === null) {
      throw new DisposedError(`${op}: buffer was freed; expected a live buffer, got freed buffer ${buffer.id}`);
    }
    return slot.data;
  }

  /**
   * The storage of a view (checkOp has checked it fits its buffer) and the buffer index of
   * each element, row-major.
   */
  function resolve(op: string, view: TensorView): Resolved {
    const data = storage(op, view.buffer);
    const { shape, strides, offset } = view;
    const n = numel(shape);
    const offsets = new Array<number>(n);
    if (n === 0) return { view, data, offsets };
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
    op: string,
    out: TensorView,
    inputs: readonly TensorView[],
    fn: (xs: readonly number[]) => number,
  ): void {
    const o = resolve(op, out);
    const cols = inputs.map((v) => load(op, resolve(op, v)));
    const n = o.offsets.length;
    const results = new Array<number>(n);
    const xs = new Array<number>(cols.length);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < cols.length; j++) xs[j] = at(cols[j] ?? [], i, op);
      results[i] = fn(xs);
    }
    store(op, o, results);
  }

  function runUnary<O extends UnaryOp>(op: O, out: TensorView, inputs: readonly TensorView[], attrs: OpAttrs[O]): void {
    const f = unaryScalar(op, (inputs[0] as TensorView).dtype, attrs);
    elementwise(op, out, inputs, (xs) => f(xs[0] ?? NaN));
  }

  function runBinary(op: BinaryOp, out: TensorView, inputs: readonly TensorView[]): void {
    const f = binaryScalar(op, (inputs[0] as TensorView).dtype);
    elementwise(op, out, inputs, (xs) => f(xs[0] ?? NaN, xs[1] ?? NaN));
  }

  function runWhere(out: TensorView, inputs: readonly TensorView[]): void {
    // torch.where: cond ? a : b, elementwise; a nonzero byte counts as true.
    elementwise('where', out, inputs, (xs) => ((xs[0] ?? 0) !== 0 ? (xs[1] ?? NaN) : (xs[2] ?? NaN)));
  }

  function runReduce(op: ReduceOp, out: TensorView, inputs: readonly TensorView[], axis: number): void {
    const x = inputs[0] as TensorView;
    const isArg = op === 'argmax' || op === 'argmin';
    const values = load(op, resolve(op, x));
    const o = resolve(op, out);
    // An empty axis reaches here only for sum (checkOp).
    const n = at(x.shape, axis, op);
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
    const [a, b, bias] = inputs as readonly [TensorView, TensorView, TensorView | undefined];
    const [ba, m, ka] = a.shape as readonly [number, number, number];
    const [bb, , n] = b.shape as readonly [number, number, number];
    const batch = at(out.shape, 0, op);
    // The reference reads any strides (transposed layouts, batch stride 0 and others alike).
    const av = load(op, resolve(op, a));
    const bv = load(op, resolve(op, b));
    const biasv = bias === undefined ? undefined : load(op, resolve(op, bias));
    const o = resolve(op, out);
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
    const [x, index] = inputs as readonly [TensorView, TensorView];
    const xv = load(op, resolve(op, x));
    const iv = load(op, resolve(op, index));
    const o = resolve(op, out);
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
    const [base, index, src] = inputs as readonly [TensorView, TensorView, TensorView];
    const acc = load(op, resolve(op, base));
    const iv = load(op, resolve(op, index));
    const sv = load(op, resolve(op, src));
    const o = resolve(op, out);
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
    const f = activationGrad(attrs.fn, attrs);
    elementwise('unary_backward', out, inputs, (xs) => f(xs[0] ?? NaN, xs[1] ?? NaN));
  }

  /**
   * Calls `visit(colIndex, imageIndex)` for every column element in row-major order,
   * with imageIndex −1 where the window reads padding.
   */
  function walkIm2col(
    image: readonly number[],
    cols: readonly number[],
    a: Im2colAttrs,
    visit: (col: number, img: number) => void,
  ): void {
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
    const x = inputs[0] as TensorView;
    const xv = load(op, resolve(op, x));
    const o = resolve(op, out);
    const results = new Array<number>(o.offsets.length);
    walkIm2col(x.shape, out.shape, attrs, (col, img) => {
      results[col] = img < 0 ? attrs.padValue : at(xv, img, op);
    });
    store(op, o, results);
  }

  function runCol2im(out: TensorView, inputs: readonly TensorView[], attrs: OpAttrs['col2im']): void {
    const op = 'col2im';
    const cols = inputs[0] as TensorView;
    const cv = load(op, resolve(op, cols));
    const o = resolve(op, out);
    // Accumulated in float64 in the columns' row-major order, rounded once when stored.
    const results = new Array<number>(o.offsets.length).fill(0);
    walkIm2col(out.shape, cols.shape, attrs, (col, img) => {
      if (img >= 0) results[img] = at(results, img, op) + at(cv, col, op);
    });
    store(op, o, results);
  }

  function runAdam(_out: TensorView, inputs: readonly TensorView[], a: OpAttrs['adam']): void {
    const op = 'adam';
    const width = a.amsgrad ? 5 : 4;
    const p0 = inputs[0] as TensorView;
    // out only names the first param (ops.ts's AdamAttrs): every param is written in place.
    const entries: TensorView[][] = [];
    for (let e = 0; e < a.count; e++) entries.push(inputs.slice(e * width, (e + 1) * width));
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
      const [pv, gv, mv, vv, xv] = entry.map((v) => load(op, resolve(op, v)));
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
      store(op, resolve(op, entry[2] as TensorView), mo);
      store(op, resolve(op, entry[3] as TensorView), vo);
      if (a.amsgrad) store(op, resolve(op, entry[4] as TensorView), xo);
      store(op, resolve(op, entry[0] as TensorView), po);
    }
  }

  function runCopy(out: TensorView, inputs: readonly TensorView[]): void {
    // Any strides on both sides. The input is read in full first, so overlap is well defined.
    elementwise('copy', out, inputs, (xs) => xs[0] ?? NaN);
  }

  function runCast(out: TensorView, inputs: readonly TensorView[]): void {
    const x = inputs[0] as TensorView;
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
    });
  }

  function runFill(out: TensorView, inputs: readonly TensorView[], value: number): void {
    // The value is converted as cast converts (2.7 → 2 in int32, NaN → true in bool).
    elementwise('fill', out, inputs, () => value);
  }

  /** This backend's dtype limit for checkOp: every dtype `opDTypes` lists. */
  const target: OpCheckTarget = {
    name: NAME,
    supports: (op, dtype) => checkDType(op, dtype, opDTypes(op)),
    stridedViews: false,
  };

  const unary =
    <O extends UnaryOp>(op: O) =>
    (out: TensorView, inputs: readonly TensorView[], attrs: OpAttrs[O]): void =>
      runUnary(op, out, inputs, attrs);
  const binary =
    (op: BinaryOp) =>
    (out: TensorView, inputs: readonly TensorView[]): void =>
      runBinary(op, out, inputs);
  const reduce =
    (op: ReduceOp) =>
    (out: TensorView, inputs: readonly TensorView[], attrs: { readonly axis: number }): void =>
      runReduce(op, out, inputs, attrs.axis);

  /** Every primitive's kernel; `run` dispatches through it after checkOp. */
  const kernels: OpTable = {
    neg: unary('neg'),
    abs: unary('abs'),
    sign: unary('sign'),
    exp: unary('exp'),
    log: unary('log'),
    sqrt: unary('sqrt'),
    relu: unary('relu'),
    sigmoid: unary('sigmoid'),
    tanh: unary('tanh'),
    gelu: unary('gelu'),
    gelu_tanh: unary('gelu_tanh'),
    silu: unary('silu'),
    softplus: unary('softplus'),
    elu: unary('elu'),
    leaky_relu: unary('leaky_relu'),
    clamp: unary('clamp'),
    logical_not: unary('logical_not'),
    round_f16: unary('round_f16'),
    round_bf16: unary('round_bf16'),
    add: binary('add'),
    sub: binary('sub'),
    mul: binary('mul'),
    div: binary('div'),
    pow: binary('pow'),
    maximum: binary('maximum'),
    minimum: binary('minimum'),
    eq: binary('eq'),
    ne: binary('ne'),
    lt: binary('lt'),
    le: binary('le'),
    gt: binary('gt'),
    ge: binary('ge'),
    where: runWhere,
    sum: reduce('sum'),
    max: reduce('max'),
    min: reduce('min'),
    argmax: reduce('argmax'),
    argmin: reduce('argmin'),
    matmul: runMatmul,
    copy: runCopy,
    cast: runCast,
    fill: (out, inputs, attrs) => runFill(out, inputs, attrs.value),
    gather: (out, inputs, attrs) => runGather(out, inputs, attrs.axis),
    scatter_add: (out, inputs, attrs) => runScatterAdd(out, inputs, attrs.axis),
    unary_backward: runUnaryBackward,
    im2col: runIm2col,
    col2im: runCol2im,
    adam: runAdam,
  };

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
        throw new IndexError(
          `write: range outside the buffer; expected offset + length <= ${target.length}, got ${offset} + ${data.length}`,
        );
      }
      target.set(data, offset);
    },

    async read(buffer: BufferHandle, offset: number, length: number): Promise<StorageArray> {
      return backend.readSync(buffer, offset, length);
    },

    readSync(buffer: BufferHandle, offset: number, length: number): StorageArray {
      const source = storage('read', buffer);
      if (
        !Number.isInteger(offset) ||
        !Number.isInteger(length) ||
        offset < 0 ||
        length < 0 ||
        offset + length > source.length
      ) {
        throw new IndexError(
          `read: range outside the buffer; expected offset + length <= ${source.length}, got ${offset} + ${length}`,
        );
      }
      return source.slice(offset, offset + length);
    },

    run<O extends OpName>(op: O, out: TensorView, inputs: readonly TensorView[], attrs: OpAttrs[O]): void {
      checkAlive(op);
      checkOp(target, op, out, inputs, attrs);
      kernels[op](out, inputs, attrs);
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

function checkIndexValue(op: string, idx: number, limit: number): void {
  if (!(idx >= 0 && idx < limit)) {
    throw new IndexError(`${op}: index out of range; expected 0 <= index < ${limit}, got ${idx}`);
  }
}
