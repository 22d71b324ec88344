/**
 * @module op-check — the one check of a primitive's calling convention, for every backend.
 *
 * `ops.ts` documents what `backend.run(op, out, inputs, attrs)` receives; {@link checkOp}
 * checks exactly that, once, before a backend computes: the number of inputs, every view
 * against its buffer (dtype, one integer stride per dim, offset and extent inside the
 * buffer), the dtypes that must agree, each primitive's shapes and contiguity, and the
 * presence and range of its attributes. A backend then keeps only its own limits: which
 * dtypes it has kernels for (the `supports` hook below), buffers that are freed or belong
 * to another backend, and device limits.
 *
 * It runs on every op of the wasm hot path, so a call that passes allocates nothing and
 * builds no string: messages are formatted only when throwing.
 */
import type { BufferHandle, TensorView } from './backend.ts';
import type { DType } from './dtype.ts';
import { DTypeError, IndexError, NotImplementedOpError, ShapeError, ValueError } from './errors.ts';
import type { ActivationAttrs, Im2colAttrs, OpAttrs, OpName } from './ops.ts';
import { ACTIVATIONS } from './ops.ts';

/**
 * What {@link checkOp} needs from the backend it checks for: a name for messages, and the
 * backend's own dtype limit, a function that throws when it has no kernel of `op` for `dtype`.
 * @example
 * const target: OpCheckTarget = { name: 'reference', supports: (op, dtype) => checkDType(op, dtype, opDTypes(op)), stridedViews: false };
 */
export interface OpCheckTarget {
  readonly name: string;
  /** Throws (the backend's own error) unless the backend runs `op` on `dtype`. */
  supports(op: OpName, dtype: DType): void;
  /**
   * True for a backend that reads and writes views of any strides where ops.ts promises
   * contiguous ones (it copies where its kernels need to; wasm): checkOp then skips those
   * promises. Adam's in-place operands must be contiguous everywhere.
   */
  readonly stridedViews: boolean;
}

type Check<O extends OpName> = (
  t: OpCheckTarget,
  out: TensorView,
  inputs: readonly TensorView[],
  attrs: OpAttrs[O],
) => void;

/**
 * Throws a typed error unless `out`, `inputs` and `attrs` follow `op`'s calling convention
 * in ops.ts (or `op` is no primitive: a NotImplementedOpError naming `target`). Every
 * backend's `run` calls it first.
 * @example
 * checkOp(target, 'add', out, [a, b], {}); // returns, or throws e.g.
 * // ShapeError: add: input 1 has the wrong shape; expected [2,3], got [3]
 */
export function checkOp<O extends OpName>(
  target: OpCheckTarget,
  op: O,
  out: TensorView,
  inputs: readonly TensorView[],
  attrs: OpAttrs[O],
): void {
  // own properties only: a name outside ops.ts ('toString' included) finds no check
  const check: Check<O> | undefined = Object.hasOwn(CHECKS, op) ? CHECKS[op] : undefined;
  if (check === undefined) {
    const name: string = op;
    throw new NotImplementedOpError(
      `${name}: op not implemented on backend ${target.name}; expected a primitive from ops.ts, got '${name}'`,
    );
  }
  check(target, out, inputs, attrs);
}

// ---------------------------------------------------------------------------------------
// Pieces, each allocation-free until it throws

/** `[2,3]`, for messages. */
function fmt(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

function numel(shape: readonly number[]): number {
  let n = 1;
  for (let d = 0; d < shape.length; d++) n *= shape[d] as number;
  return n;
}

/** Row-major contiguous strides of `shape` (only for messages). */
function rowMajor(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d] as number;
  }
  return strides;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let d = 0; d < a.length; d++) if (a[d] !== b[d]) return false;
  return true;
}

/** Row-major contiguity as torch's is_contiguous sees it: size-1 dims may have any stride; empty views are contiguous. */
function isContiguous(v: TensorView): boolean {
  const { shape, strides } = v;
  let expected = 1;
  let ok = true;
  for (let d = shape.length - 1; d >= 0; d--) {
    const s = shape[d] as number;
    if (s === 0) return true;
    if (s !== 1 && strides[d] !== expected) ok = false;
    expected *= s;
  }
  return ok;
}

/**
 * The role of operand `k` of `op` in messages (`-1` is out), e.g. `input 1`, `b`, `index`,
 * `entry 2 expAvg`. Built only when a check throws.
 */
function role(op: OpName, k: number, width = 4): string {
  if (k < 0) return 'out';
  switch (op) {
    case 'sum':
    case 'max':
    case 'min':
    case 'argmax':
    case 'argmin':
    case 'im2col':
    case 'col2im':
      return 'input';
    case 'matmul':
      return ['a', 'b', 'bias'][k] ?? `input ${k}`;
    case 'gather':
      return ['input', 'index'][k] ?? `input ${k}`;
    case 'scatter_add':
      return ['base', 'index', 'src'][k] ?? `input ${k}`;
    case 'adam':
      return `entry ${Math.floor(k / width)} ${ADAM_ROLES[k % width] ?? 'input'}`;
    default:
      return `input ${k}`;
  }
}

const ADAM_ROLES = ['param', 'grad', 'expAvg', 'expAvgSq', 'maxExpAvgSq'] as const;

function checkCount(op: OpName, inputs: readonly TensorView[], n: number): void {
  if (inputs.length !== n) throw new ValueError(`${op}: wrong number of inputs; expected ${n}, got ${inputs.length}`);
}

/**
 * A view fits its buffer: the buffer's dtype, one integer stride per dim, non-negative
 * integer sizes, an integer offset >= 0, and (unless empty) every element inside the buffer.
 */
function checkView(op: OpName, k: number, v: TensorView, width?: number): void {
  const buffer: BufferHandle = v.buffer;
  const { shape, strides, offset } = v;
  if (v.dtype !== buffer.dtype) {
    throw new DTypeError(
      `${op}: ${role(op, k, width)} view dtype differs from its buffer; expected ${buffer.dtype}, got ${v.dtype}`,
    );
  }
  const rank = shape.length;
  if (strides.length !== rank) {
    throw new ShapeError(
      `${op}: ${role(op, k, width)} has one stride per dim; expected ${rank} strides, got ${fmt(strides)}`,
    );
  }
  if (!Number.isInteger(offset) || offset < 0) {
    throw new IndexError(`${op}: ${role(op, k, width)} offset out of range; expected an integer >= 0, got ${offset}`);
  }
  let lo = offset;
  let hi = offset;
  let empty = false;
  for (let d = 0; d < rank; d++) {
    const s = shape[d] as number;
    const st = strides[d] as number;
    if (!Number.isInteger(s) || s < 0) {
      throw new ShapeError(
        `${op}: ${role(op, k, width)} shape must be non-negative integers; expected e.g. [2,3], got ${fmt(shape)}`,
      );
    }
    if (!Number.isInteger(st)) {
      throw new ShapeError(
        `${op}: ${role(op, k, width)} strides must be integers; expected e.g. [3,1], got ${fmt(strides)}`,
      );
    }
    if (s === 0) empty = true;
    const reach = (s - 1) * st;
    if (reach < 0) lo += reach;
    else hi += reach;
  }
  if (!empty && (lo < 0 || hi >= buffer.length)) {
    throw new IndexError(
      `${op}: ${role(op, k, width)} view reaches outside its buffer; expected element indices in [0, ${buffer.length}), got [${lo}, ${hi}]`,
    );
  }
}

/** out and every input fit their buffers. */
function checkViews(op: OpName, out: TensorView, inputs: readonly TensorView[]): void {
  checkView(op, -1, out);
  for (let k = 0; k < inputs.length; k++) checkView(op, k, inputs[k] as TensorView);
}

function checkDTypeIs(op: OpName, who: string, v: TensorView, dtype: DType): void {
  if (v.dtype !== dtype) throw new DTypeError(`${op}: ${who} has the wrong dtype; expected ${dtype}, got ${v.dtype}`);
}

function checkShapeIs(op: OpName, who: string, v: TensorView, shape: readonly number[]): void {
  if (!sameShape(v.shape, shape))
    throw new ShapeError(`${op}: ${who} has the wrong shape; expected ${fmt(shape)}, got ${fmt(v.shape)}`);
}

function checkContiguous(op: OpName, who: string, v: TensorView): void {
  if (!isContiguous(v)) {
    throw new ShapeError(
      `${op}: ${who} must be contiguous; expected strides ${fmt(rowMajor(v.shape))}, got ${fmt(v.strides)}`,
    );
  }
}

/** Contiguous once the stride-0 (broadcast) dims are dropped: gather's index. */
function checkContiguousOrBroadcast(op: OpName, who: string, v: TensorView): void {
  const { shape, strides } = v;
  let expected = 1;
  let ok = true;
  for (let d = shape.length - 1; d >= 0; d--) {
    const s = shape[d] as number;
    if (s === 0) return;
    const st = strides[d] as number;
    if (s === 1 || st === 0) continue;
    if (st !== expected) ok = false;
    expected *= s;
  }
  if (!ok) {
    throw new ShapeError(
      `${op}: ${who} must be contiguous or broadcast (stride 0); expected row-major strides over the other dims, got ${fmt(strides)} for shape ${fmt(shape)}`,
    );
  }
}

function checkAxis(op: OpName, axis: number, rank: number): void {
  if (!Number.isInteger(axis) || axis < 0 || axis >= rank) {
    throw new IndexError(`${op}: axis out of range; expected an integer 0 <= axis < ${rank}, got ${axis}`);
  }
}

function checkNumberAttr(op: OpName, name: string, v: unknown): void {
  if (typeof v !== 'number')
    throw new ValueError(`${op}: attribute ${name} is missing; expected a number, got ${String(v)}`);
}

/** The ActivationAttrs fields activation `fn` reads are numbers. */
function checkActivationAttrs(op: OpName, fn: string, a: ActivationAttrs): void {
  if (fn === 'softplus') {
    checkNumberAttr(op, 'beta', a.beta);
    checkNumberAttr(op, 'threshold', a.threshold);
  } else if (fn === 'elu' || fn === 'leaky_relu') {
    checkNumberAttr(op, 'alpha', a.alpha);
  }
}

/**
 * The elementwise convention: every input has out's shape (any strides), and out is
 * contiguous unless `anyOut` (copy).
 */
function checkElementwiseShapes(op: OpName, out: TensorView, inputs: readonly TensorView[], anyOut: boolean): void {
  // anyOut: copy's out may be any strided view, and a stridedViews backend takes any out
  if (!anyOut) checkContiguous(op, 'out', out);
  for (let k = 0; k < inputs.length; k++) {
    const v = inputs[k] as TensorView;
    if (!sameShape(v.shape, out.shape)) {
      throw new ShapeError(`${op}: input ${k} has the wrong shape; expected ${fmt(out.shape)}, got ${fmt(v.shape)}`);
    }
  }
}

// ---------------------------------------------------------------------------------------
// Each primitive's convention (ops.ts)

function unary<
  O extends
    | 'neg'
    | 'abs'
    | 'sign'
    | 'exp'
    | 'log'
    | 'sqrt'
    | 'relu'
    | 'sigmoid'
    | 'tanh'
    | 'gelu'
    | 'gelu_tanh'
    | 'silu'
    | 'logical_not'
    | 'round_f16'
    | 'round_bf16',
>(op: O): Check<O> {
  return (t, out, inputs) => {
    checkCount(op, inputs, 1);
    checkViews(op, out, inputs);
    const x = inputs[0] as TensorView;
    t.supports(op, x.dtype);
    checkDTypeIs(op, 'out', out, x.dtype);
    checkElementwiseShapes(op, out, inputs, t.stridedViews);
  };
}

function activation<O extends 'softplus' | 'elu' | 'leaky_relu'>(op: O): Check<O> {
  return (t, out, inputs, attrs) => {
    checkCount(op, inputs, 1);
    checkViews(op, out, inputs);
    const x = inputs[0] as TensorView;
    t.supports(op, x.dtype);
    checkDTypeIs(op, 'out', out, x.dtype);
    checkActivationAttrs(op, op, attrs);
    checkElementwiseShapes(op, out, inputs, t.stridedViews);
  };
}

const clamp: Check<'clamp'> = (t, out, inputs, attrs) => {
  const op = 'clamp';
  checkCount(op, inputs, 1);
  checkViews(op, out, inputs);
  const x = inputs[0] as TensorView;
  t.supports(op, x.dtype);
  checkDTypeIs(op, 'out', out, x.dtype);
  const { min, max } = attrs;
  if ((min !== null && typeof min !== 'number') || (max !== null && typeof max !== 'number')) {
    throw new ValueError(
      `clamp: bounds must be numbers or null; expected {min, max}, got {${String(min)}, ${String(max)}}`,
    );
  }
  checkElementwiseShapes(op, out, inputs, t.stridedViews);
};

/** Binary ops: two inputs of one dtype; comparisons output bool. */
function binary<
  O extends 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum' | 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge',
>(op: O, comparison: boolean): Check<O> {
  return (t, out, inputs) => {
    checkCount(op, inputs, 2);
    checkViews(op, out, inputs);
    const a = inputs[0] as TensorView;
    t.supports(op, a.dtype);
    checkDTypeIs(op, 'input 1', inputs[1] as TensorView, a.dtype);
    checkDTypeIs(op, 'out', out, comparison ? 'bool' : a.dtype);
    checkElementwiseShapes(op, out, inputs, t.stridedViews);
  };
}

const where: Check<'where'> = (t, out, inputs) => {
  const op = 'where';
  checkCount(op, inputs, 3);
  checkViews(op, out, inputs);
  const a = inputs[1] as TensorView;
  checkDTypeIs(op, 'condition', inputs[0] as TensorView, 'bool');
  t.supports(op, a.dtype);
  checkDTypeIs(op, 'input 2', inputs[2] as TensorView, a.dtype);
  checkDTypeIs(op, 'out', out, a.dtype);
  checkElementwiseShapes(op, out, inputs, t.stridedViews);
};

/** Reductions: a contiguous input, out of its shape with shape[axis] = 1, contiguous. */
function reduce<O extends 'sum' | 'max' | 'min' | 'argmax' | 'argmin'>(op: O): Check<O> {
  const isArg = op === 'argmax' || op === 'argmin';
  return (t, out, inputs, attrs) => {
    checkCount(op, inputs, 1);
    checkViews(op, out, inputs);
    const x = inputs[0] as TensorView;
    t.supports(op, x.dtype);
    checkDTypeIs(op, 'out', out, isArg ? 'int32' : x.dtype);
    const { axis } = attrs;
    const rank = x.shape.length;
    checkAxis(op, axis, rank);
    let fits = out.shape.length === rank;
    for (let d = 0; fits && d < rank; d++) fits = out.shape[d] === (d === axis ? 1 : x.shape[d]);
    if (!fits)
      checkShapeIs(
        op,
        'out',
        out,
        x.shape.map((s, d) => (d === axis ? 1 : s)),
      );
    if (!t.stridedViews) {
      checkContiguous(op, 'input', x);
      checkContiguous(op, 'out', out);
    }
    if (x.shape[axis] === 0 && op !== 'sum' && numel(out.shape) > 0) {
      throw new IndexError(`${op}: cannot reduce an empty axis; expected shape[${axis}] > 0, got ${fmt(x.shape)}`);
    }
  };
}

const matmul: Check<'matmul'> = (t, out, inputs, attrs) => {
  const op = 'matmul';
  if (inputs.length !== 2 && inputs.length !== 3) {
    throw new ValueError(`${op}: wrong number of inputs; expected 2 or 3, got ${inputs.length}`);
  }
  checkViews(op, out, inputs);
  const a = inputs[0] as TensorView;
  const b = inputs[1] as TensorView;
  const bias = inputs[2];
  t.supports(op, a.dtype);
  checkDTypeIs(op, 'b', b, a.dtype);
  checkDTypeIs(op, 'out', out, a.dtype);
  if (a.shape.length !== 3 || b.shape.length !== 3) {
    throw new ShapeError(
      `${op}: inputs must be 3-D; expected [B,M,K] @ [B,K,N], got ${fmt(a.shape)} @ ${fmt(b.shape)}`,
    );
  }
  const [ba, m, ka] = a.shape as readonly [number, number, number];
  const [bb, kb, n] = b.shape as readonly [number, number, number];
  if (ka !== kb) {
    throw new ShapeError(
      `${op}: inner dimensions differ; expected a[-1] == b[-2], got ${fmt(a.shape)} @ ${fmt(b.shape)}`,
    );
  }
  if (out.shape.length !== 3) {
    throw new ShapeError(`${op}: out must be 3-D; expected [B,M,N], got ${fmt(out.shape)}`);
  }
  const batch = out.shape[0] as number;
  if ((ba !== batch && ba !== 1) || (bb !== batch && bb !== 1)) {
    throw new ShapeError(
      `${op}: batch sizes differ; expected a[0] and b[0] equal to out[0] = ${batch} (or 1), got ${fmt(a.shape)} @ ${fmt(b.shape)}`,
    );
  }
  if (out.shape[1] !== m || out.shape[2] !== n) checkShapeIs(op, 'out', out, [batch, m, n]);
  if (!t.stridedViews) checkContiguous(op, 'out', out);
  if (bias !== undefined) {
    checkDTypeIs(op, 'bias', bias, a.dtype);
    if (bias.shape.length !== 1 || bias.shape[0] !== n) checkShapeIs(op, 'bias', bias, [n]);
  }
  const { precision } = attrs;
  if (precision !== undefined && precision !== 'f16' && precision !== 'bf16') {
    throw new ValueError(`${op}: unknown precision; expected 'f16', 'bf16' or none, got ${String(precision)}`);
  }
};

const copy: Check<'copy'> = (t, out, inputs) => {
  const op = 'copy';
  checkCount(op, inputs, 1);
  checkViews(op, out, inputs);
  const x = inputs[0] as TensorView;
  t.supports(op, x.dtype);
  checkDTypeIs(op, 'out', out, x.dtype);
  checkElementwiseShapes(op, out, inputs, true);
};

const cast: Check<'cast'> = (t, out, inputs) => {
  const op = 'cast';
  checkCount(op, inputs, 1);
  checkViews(op, out, inputs);
  t.supports(op, (inputs[0] as TensorView).dtype);
  t.supports(op, out.dtype);
  checkElementwiseShapes(op, out, inputs, t.stridedViews);
};

const fill: Check<'fill'> = (t, out, inputs, attrs) => {
  const op = 'fill';
  checkCount(op, inputs, 0);
  checkViews(op, out, inputs);
  t.supports(op, out.dtype);
  if (typeof attrs.value !== 'number') {
    throw new ValueError(`fill: value must be a number; expected e.g. 0, got ${String(attrs.value)}`);
  }
  if (!t.stridedViews) checkContiguous(op, 'out', out);
};

/** torch: index.size(d) <= input.size(d) for every d != axis (ranks already equal). */
function checkIndexFits(op: OpName, index: readonly number[], input: readonly number[], axis: number): void {
  for (let d = 0; d < index.length; d++) {
    if (d !== axis && (index[d] as number) > (input[d] as number)) {
      throw new ShapeError(
        `${op}: index is larger than the input outside the axis; expected index.shape[d] <= ${fmt(input)}[d] for d != ${axis}, got ${fmt(index)}`,
      );
    }
  }
}

function checkIndexRank(op: OpName, index: TensorView, data: TensorView): void {
  if (index.shape.length !== data.shape.length) {
    throw new ShapeError(
      `${op}: index and input ranks differ; expected rank ${data.shape.length}, got ${fmt(index.shape)}`,
    );
  }
}

const gather: Check<'gather'> = (t, out, inputs, attrs) => {
  const op = 'gather';
  checkCount(op, inputs, 2);
  checkViews(op, out, inputs);
  const x = inputs[0] as TensorView;
  const index = inputs[1] as TensorView;
  t.supports(op, x.dtype);
  checkDTypeIs(op, 'index', index, 'int32');
  checkDTypeIs(op, 'out', out, x.dtype);
  checkIndexRank(op, index, x);
  checkAxis(op, attrs.axis, x.shape.length);
  checkIndexFits(op, index.shape, x.shape, attrs.axis);
  checkShapeIs(op, 'out', out, index.shape);
  if (t.stridedViews) return;
  checkContiguous(op, 'input', x);
  checkContiguousOrBroadcast(op, 'index', index);
  checkContiguous(op, 'out', out);
};

const scatterAdd: Check<'scatter_add'> = (t, out, inputs, attrs) => {
  const op = 'scatter_add';
  checkCount(op, inputs, 3);
  checkViews(op, out, inputs);
  const base = inputs[0] as TensorView;
  const index = inputs[1] as TensorView;
  const src = inputs[2] as TensorView;
  t.supports(op, base.dtype);
  checkDTypeIs(op, 'index', index, 'int32');
  checkDTypeIs(op, 'src', src, base.dtype);
  checkDTypeIs(op, 'out', out, base.dtype);
  checkIndexRank(op, index, base);
  checkAxis(op, attrs.axis, base.shape.length);
  checkShapeIs(op, 'src', src, index.shape);
  checkIndexFits(op, index.shape, base.shape, attrs.axis);
  checkShapeIs(op, 'out', out, base.shape);
  if (t.stridedViews) return;
  checkContiguous(op, 'base', base);
  checkContiguous(op, 'index', index);
  checkContiguous(op, 'src', src);
  checkContiguous(op, 'out', out);
};

const unaryBackward: Check<'unary_backward'> = (t, out, inputs, attrs) => {
  const op = 'unary_backward';
  checkCount(op, inputs, 2);
  checkViews(op, out, inputs);
  const x = inputs[0] as TensorView;
  const fn: string = attrs.fn;
  if (!(ACTIVATIONS as readonly string[]).includes(fn)) {
    throw new ValueError(`${op}: unknown activation; expected one of ${ACTIVATIONS.join(', ')}, got ${String(fn)}`);
  }
  checkActivationAttrs(op, fn, attrs);
  t.supports(op, x.dtype);
  checkDTypeIs(op, 'gradOut', inputs[1] as TensorView, x.dtype);
  checkDTypeIs(op, 'out', out, x.dtype);
  checkElementwiseShapes(op, out, inputs, t.stridedViews);
};

const GEOMETRY = ['kernelH', 'kernelW', 'strideH', 'strideW', 'dilationH', 'dilationW', 'padH', 'padW'] as const;

/**
 * im2col and col2im: image `[N, C, H, W]` and columns `[N, C·kH·kW, oH, oW]`, both
 * contiguous and of one dtype; integer geometry (kernel, stride, dilation >= 1, padding >= 0).
 */
function checkIm2col(
  t: OpCheckTarget,
  op: 'im2col' | 'col2im',
  image: TensorView,
  cols: TensorView,
  a: Im2colAttrs,
): void {
  t.supports(op, image.dtype);
  checkDTypeIs(op, 'columns', cols, image.dtype);
  for (let i = 0; i < GEOMETRY.length; i++) {
    const k = GEOMETRY[i] as (typeof GEOMETRY)[number];
    const v: unknown = a[k];
    const min = i >= 6 ? 0 : 1;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
      throw new ValueError(
        `${op}: attribute ${k} must be an integer >= ${min}; expected e.g. ${min + 1}, got ${String(v)}`,
      );
    }
  }
  if (image.shape.length !== 4) {
    throw new ShapeError(`${op}: image must be 4-D; expected [N,C,H,W], got ${fmt(image.shape)}`);
  }
  const n = image.shape[0] as number;
  const c = image.shape[1] as number;
  if (cols.shape.length !== 4 || cols.shape[0] !== n || cols.shape[1] !== c * a.kernelH * a.kernelW) {
    throw new ShapeError(
      `${op}: columns have the wrong shape; expected [${n},${c * a.kernelH * a.kernelW},oH,oW], got ${fmt(cols.shape)}`,
    );
  }
  if (t.stridedViews) return;
  checkContiguous(op, 'image', image);
  checkContiguous(op, 'columns', cols);
}

const im2col: Check<'im2col'> = (t, out, inputs, attrs) => {
  checkCount('im2col', inputs, 1);
  checkViews('im2col', out, inputs);
  checkIm2col(t, 'im2col', inputs[0] as TensorView, out, attrs);
  if (typeof attrs.padValue !== 'number') {
    throw new ValueError(`im2col: attribute padValue is missing; expected a number, got ${String(attrs.padValue)}`);
  }
};

const col2im: Check<'col2im'> = (t, out, inputs, attrs) => {
  checkCount('col2im', inputs, 1);
  checkViews('col2im', out, inputs);
  checkIm2col(t, 'col2im', out, inputs[0] as TensorView, attrs);
};

const ADAM_NUMBERS = ['lr', 'beta1', 'beta2', 'eps', 'weightDecay', 'stepSize', 'bc2Sqrt'] as const;

/** adam (ops.ts's AdamAttrs): `count` entries of contiguous views of one dtype, out the first param. */
const adam: Check<'adam'> = (t, out, inputs, a) => {
  const op = 'adam';
  const width = a.amsgrad ? 5 : 4;
  const count = a.count;
  if (!Number.isInteger(count) || count < 1) {
    throw new ValueError(
      `${op}: attribute count must be a positive integer; expected count >= 1, got ${String(count)}`,
    );
  }
  if (inputs.length !== count * width) {
    throw new ValueError(
      `${op}: wrong number of inputs; expected ${count * width} (${count} × [param, grad, expAvg, expAvgSq${a.amsgrad ? ', maxExpAvgSq' : ''}]), got ${inputs.length}`,
    );
  }
  checkView(op, -1, out);
  for (let k = 0; k < inputs.length; k++) checkView(op, k, inputs[k] as TensorView, width);
  const p0 = inputs[0] as TensorView;
  t.supports(op, p0.dtype);
  // out only names the first param: every param is written in place.
  if (out.buffer !== p0.buffer || out.offset !== p0.offset || numel(out.shape) !== numel(p0.shape)) {
    throw new ShapeError(
      `${op}: out must be the first param itself; expected a view of buffer ${p0.buffer.id} at offset ${p0.offset} with ${numel(p0.shape)} elements, got buffer ${out.buffer.id} at offset ${out.offset} with ${numel(out.shape)}`,
    );
  }
  for (let i = 0; i < ADAM_NUMBERS.length; i++) {
    const k = ADAM_NUMBERS[i] as (typeof ADAM_NUMBERS)[number];
    checkNumberAttr(op, k, a[k]);
  }
  for (let e = 0; e < count; e++) {
    const n = numel((inputs[e * width] as TensorView).shape);
    for (let i = 0; i < width; i++) {
      const k = e * width + i;
      const v = inputs[k] as TensorView;
      if (v.dtype !== p0.dtype) checkDTypeIs(op, role(op, k, width), v, p0.dtype);
      if (numel(v.shape) !== n) {
        throw new ShapeError(
          `${op}: ${role(op, k, width)} has the wrong numel; expected ${n} (its param's), got ${numel(v.shape)} (shape ${fmt(v.shape)})`,
        );
      }
      if (!isContiguous(v)) checkContiguous(op, role(op, k, width), v);
    }
  }
};

/** Every primitive's check, in ops.ts's order. */
const CHECKS: { readonly [O in OpName]: Check<O> } = {
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
  softplus: activation('softplus'),
  elu: activation('elu'),
  leaky_relu: activation('leaky_relu'),
  clamp,
  logical_not: unary('logical_not'),
  round_f16: unary('round_f16'),
  round_bf16: unary('round_bf16'),
  add: binary('add', false),
  sub: binary('sub', false),
  mul: binary('mul', false),
  div: binary('div', false),
  pow: binary('pow', false),
  maximum: binary('maximum', false),
  minimum: binary('minimum', false),
  eq: binary('eq', true),
  ne: binary('ne', true),
  lt: binary('lt', true),
  le: binary('le', true),
  gt: binary('gt', true),
  ge: binary('ge', true),
  where,
  sum: reduce('sum'),
  max: reduce('max'),
  min: reduce('min'),
  argmax: reduce('argmax'),
  argmin: reduce('argmin'),
  matmul,
  copy,
  cast,
  fill,
  gather,
  scatter_add: scatterAdd,
  unary_backward: unaryBackward,
  im2col,
  col2im,
  adam,
};
