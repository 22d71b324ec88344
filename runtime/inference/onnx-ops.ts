/**
 * @module inference/onnx-ops — the ONNX operators the interpreter runs, each mapped onto the
 * tensor layer's ops, with attributes as the ONNX spec defines them for opsets 13-20.
 *
 * Every operator is a {@link OpSpec}: the attributes it knows, its input count, which inputs
 * it reads on the host (shapes, axes, bounds: the values, not the tensor), a `prepare` that
 * reads and checks its attributes once when the session is created (so a value this file does
 * not run is an `OnnxUnsupportedError` before anything runs), and `run`, which computes the
 * one output. Before an op allocates something whose size the file controls (a broadcast, an
 * Expand, ConstantOfShape, a matmul or a convolution's columns) it asks `c.budget`, which
 * refuses past the session's `maxElements`; matmul and convolution also count their
 * multiply-adds against `maxMultiplyAdds`.
 *
 * Differences from the spec, each an error rather than a silent change: 2-D convolution and
 * pooling only (4-D input), symmetric pads and `auto_pad` NOTSET or VALID only, positive Slice
 * steps, one output per node (MaxPool's Indices, BatchNormalization's training outputs and
 * LayerNormalization's Mean/InvStdDev are not produced), ArgMax/ArgMin's `select_last_index` 0.
 * int64 values live in int32 tensors (the tensor layer has no int64): Shape, ArgMax and casts
 * to int64 give int32 tensors. Pooling and ceil mode follow torch's output-size rule.
 */
import type { OnnxAttribute, OnnxTensor } from '../io/onnx.ts';
import type { DType } from '../dtype.ts';
import { broadcastShapes, numelOf, shapeString } from '../shape.ts';
import {
  Tensor,
  abs,
  add,
  avgPool2d,
  cast,
  cat,
  clamp,
  compare,
  conv2d,
  div,
  eq,
  exp,
  full,
  gather,
  gelu,
  indexSelect,
  leakyRelu,
  elu,
  linear,
  log,
  logicalNot,
  logSoftmax,
  logSumExp,
  lt,
  matmul,
  maximum,
  maxPool2d,
  minimum,
  mul,
  neg,
  pow,
  relu,
  sigmoid,
  sign,
  softmax,
  softplus,
  sqrt,
  sub,
  sum,
  tanh,
  where,
} from '../tensor/index.ts';
import { describeNode, OnnxUnsupportedError, type OnnxNodeRef } from './onnx-errors.ts';

/** The dtype our tensors use for each supported TensorProto element type (int64 held as int32). */
export const ONNX_ELEM_DTYPE: Readonly<Record<number, DType>> = {
  1: 'float32',
  6: 'int32',
  7: 'int32',
  9: 'bool',
  11: 'float64',
};

/** A node's attributes, read by name and type; a wrong type or value is an {@link OnnxUnsupportedError}. */
export class Attrs {
  readonly ref: OnnxNodeRef;
  readonly #byName = new Map<string, OnnxAttribute>();
  constructor(ref: OnnxNodeRef, attributes: readonly OnnxAttribute[]) {
    this.ref = ref;
    for (const a of attributes) this.#byName.set(a.name, a);
  }

  #get<T extends OnnxAttribute['type']>(name: string, type: T): Extract<OnnxAttribute, { type: T }> | undefined {
    const a = this.#byName.get(name);
    if (a === undefined) return undefined;
    if (a.type !== type) this.unsupported(name, `an attribute of type ${type}`, a.type);
    return a as Extract<OnnxAttribute, { type: T }>;
  }

  int(name: string, dflt: number): number {
    return this.#get(name, 'int')?.value ?? dflt;
  }
  float(name: string, dflt: number): number {
    return this.#get(name, 'float')?.value ?? dflt;
  }
  string(name: string, dflt: string): string {
    return this.#get(name, 'string')?.value ?? dflt;
  }
  ints(name: string): readonly number[] | null {
    return this.#get(name, 'ints')?.value ?? null;
  }
  tensor(name: string): OnnxTensor | null {
    return this.#get(name, 'tensor')?.value ?? null;
  }
  /** An int attribute that must be one of `allowed`. */
  choice(name: string, dflt: number, allowed: readonly number[]): number {
    const v = this.int(name, dflt);
    if (!allowed.includes(v)) this.unsupported(name, allowed.join(' or '), String(v));
    return v;
  }
  /** A list of exactly `n` ints (2-D windows), or `dflt` when absent. */
  pair(name: string, n: number, dflt: readonly number[] | null, min: number): number[] | null {
    const v = this.ints(name);
    if (v === null) return dflt === null ? null : [...dflt];
    if (v.length !== n || v.some((x) => !Number.isInteger(x) || x < min))
      this.unsupported(name, `${n} integers >= ${min} (2-D windows only)`, `[${v.join(', ')}]`);
    return [...v];
  }

  unsupported(name: string, expected: string, got: string): never {
    throw new OnnxUnsupportedError(
      `onnx: unsupported value of attribute '${name}' of ${this.ref.opType} at ${describeNode(this.ref)}; expected ${expected}, got ${got}`,
      this.ref,
      name,
    );
  }
}

/** What `run` may ask of the session while a node runs. */
export interface RunContext {
  readonly ref: OnnxNodeRef;
  /** Throws a LimitError if a tensor of `shape` (or that many elements) would pass `maxElements`. */
  budget(shape: readonly number[] | number, what?: string): void;
  /** Throws a LimitError past `maxMultiplyAdds` for this node. */
  work(multiplyAdds: number): void;
  /** Throws an OnnxNodeError: `<node>: <what>; expected <x>, got <y>`. */
  fail(what: string, expected: string, got: string): never;
}

type Inputs = readonly (Tensor | null)[];
type Host = readonly (readonly number[] | null)[];

/** One operator: see the module comment. `P` is what `prepare` reads from the attributes. */
export interface OpSpec<P = unknown> {
  readonly attrs?: readonly string[];
  /** The fewest and most inputs (absent optional ones count, as '' names). */
  readonly inputs: readonly [number, number];
  /** Inputs whose values `run` receives in `host` (read from constants, or back from the backend). */
  readonly host?: readonly number[];
  readonly prepare?: (a: Attrs) => P;
  readonly run: (x: Inputs, p: P, c: RunContext, host: Host) => Tensor;
}

function spec<P>(s: OpSpec<P>): OpSpec<unknown> {
  return s as unknown as OpSpec<unknown>;
}

/** Input `i`, which this op needs. */
function need(x: Inputs, i: number, c: RunContext): Tensor {
  return x[i] ?? c.fail(`input ${i} is missing`, 'a tensor', 'an empty name');
}

function axis(c: RunContext, a: number, rank: number): number {
  if (!Number.isInteger(a) || a < -rank || a >= rank)
    c.fail('axis out of range', `${-rank} <= axis < ${rank}`, String(a));
  return a < 0 ? a + rank : a;
}

/** The broadcast of every input's shape, budgeted before an elementwise op allocates it. */
function broadcastAll(c: RunContext, xs: readonly Tensor[]): number[] {
  let shape: number[] = [];
  for (const t of xs) shape = broadcastShapes(c.ref.opType, shape, t.shape);
  c.budget(shape);
  return shape;
}

const unary = (f: (x: Tensor) => Tensor): OpSpec<unknown> =>
  spec({ inputs: [1, 1], run: (x, _p, c) => f(need(x, 0, c)) });

const binary = (f: (a: Tensor, b: Tensor) => Tensor): OpSpec<unknown> =>
  spec({
    inputs: [2, 2],
    run: (x, _p, c) => {
      const [a, b] = [need(x, 0, c), need(x, 1, c)];
      broadcastAll(c, [a, b]);
      return f(a, b);
    },
  });

const variadic = (f: (a: Tensor, b: Tensor) => Tensor): OpSpec<unknown> =>
  spec({
    inputs: [1, 2 ** 31],
    run: (x, _p, c) => {
      const xs = x.map((_, i) => need(x, i, c));
      broadcastAll(c, xs);
      return xs.slice(1).reduce(f, xs[0]!);
    },
  });

/** erf(z) = 2·gelu(√2·z)/(√2·z) − 1, from the exact-GELU kernel (gelu(w) = w·½(1 + erf(w/√2))); erf(0) = 0. */
function erf(z: Tensor): Tensor {
  const w = mul(z, Math.SQRT2);
  const zero = eq(w, 0);
  const ratio = div(gelu(w), where(zero, 1, w));
  return where(zero, 0, sub(mul(ratio, 2), 1));
}

/** Integer Div truncates (the spec's integer division); float Div divides. */
function onnxDiv(a: Tensor, b: Tensor): Tensor {
  const q = div(a, b);
  return a.dtype === 'int32' && b.dtype === 'int32' ? cast(q, 'int32') : q;
}

/** Indices with negative entries counted from the end of a dim of `size`, as Gather allows. */
function wrapIndices(idx: Tensor, size: number): Tensor {
  const i = cast(idx, 'int32');
  return where(lt(i, 0), add(i, size), i);
}

/** Runs `f` on bool data as int32 (the gather kernels have no bool), casting the result back. */
function viaInt(x: Tensor, f: (x: Tensor) => Tensor): Tensor {
  return x.dtype === 'bool' ? cast(f(cast(x, 'int32')), 'bool') : f(x);
}

/** Non-negative integer sizes read from a shape input. */
function sizes(c: RunContext, v: readonly number[], what: string): number[] {
  if (v.some((s) => !Number.isInteger(s) || s < 0))
    c.fail(`invalid ${what}`, 'non-negative integer sizes', `[${v.join(', ')}]`);
  return [...v];
}

// ---------------------------------------------------------------- reductions

interface ReduceAttrs {
  readonly axes: readonly number[] | null;
  readonly keepdims: boolean;
  readonly noop: boolean;
}

const REDUCE_ATTRS = ['axes', 'keepdims', 'noop_with_empty_axes'];

/**
 * A reduction: axes as an attribute (ReduceSum before 13, the others before 18) or as input 1
 * (from then on); either form is accepted. Empty axes reduce everything unless
 * noop_with_empty_axes.
 */
const reduce = (f: (x: Tensor, dims: number[], keep: boolean) => Tensor): OpSpec<unknown> =>
  spec<ReduceAttrs>({
    attrs: REDUCE_ATTRS,
    inputs: [1, 2],
    host: [1],
    prepare: (a) => ({
      axes: a.ints('axes'),
      keepdims: a.choice('keepdims', 1, [0, 1]) === 1,
      noop: a.choice('noop_with_empty_axes', 0, [0, 1]) === 1,
    }),
    run: (x, p, c, host) => {
      const t = need(x, 0, c);
      const input = host[1] ?? null;
      if (p.axes !== null && input !== null) c.fail('axes given twice', 'an attribute or an input', 'both');
      const given = p.axes ?? input ?? [];
      if (given.length === 0 && p.noop) return t;
      const dims = given.length === 0 ? t.shape.map((_, i) => i) : given.map((d) => axis(c, d, t.dim()));
      if (new Set(dims).size !== dims.length) c.fail('an axis appears twice', 'distinct axes', `[${given.join(', ')}]`);
      if (t.dim() === 0) return t;
      return f(t, dims, p.keepdims);
    },
  });

/** Max or min over several dims: one dim at a time, from the last. */
function extreme(op: 'max' | 'min', x: Tensor, dims: number[], keep: boolean): Tensor {
  let y = x;
  for (const d of [...dims].sort((a, b) => b - a)) y = (op === 'max' ? y.max(d, true) : y.min(d, true)).values;
  return keep ? y : y.reshape(x.shape.filter((_, i) => !dims.includes(i)));
}

// ---------------------------------------------------------------- windows

interface WindowAttrs {
  readonly kernel: number[] | null;
  readonly strides: number[];
  readonly pads: [number, number];
  readonly dilations: number[];
  readonly ceil: boolean;
  readonly countIncludePad: boolean;
  readonly group: number;
}

/** Conv and pool attributes: 2-D, symmetric pads, auto_pad NOTSET or VALID. */
function windowAttrs(a: Attrs, kernelRequired: boolean): WindowAttrs {
  a.string('auto_pad', 'NOTSET') === 'NOTSET' ||
    a.string('auto_pad', 'NOTSET') === 'VALID' ||
    a.unsupported('auto_pad', 'NOTSET or VALID', a.string('auto_pad', ''));
  const kernel = a.pair('kernel_shape', 2, null, 1);
  if (kernelRequired && kernel === null) a.unsupported('kernel_shape', 'a kernel_shape', 'none');
  const pads = a.pair('pads', 4, [0, 0, 0, 0], 0)!;
  if (pads[0] !== pads[2] || pads[1] !== pads[3])
    a.unsupported('pads', 'symmetric pads [top, left, top, left]', `[${pads.join(', ')}]`);
  return {
    kernel,
    strides: a.pair('strides', 2, [1, 1], 1)!,
    pads: [pads[0]!, pads[1]!],
    dilations: a.pair('dilations', 2, [1, 1], 1)!,
    ceil: a.choice('ceil_mode', 0, [0, 1]) === 1,
    countIncludePad: a.choice('count_include_pad', 0, [0, 1]) === 1,
    group: a.int('group', 1),
  };
}

function windowOut(size: number, k: number, s: number, p: number, d: number, ceil: boolean): number {
  const span = size + 2 * p - d * (k - 1) - 1;
  let out = Math.floor((span + (ceil ? s - 1 : 0)) / s) + 1;
  if (ceil && (out - 1) * s >= size + p) out--;
  return Math.max(out, 0);
}

function image(c: RunContext, x: Tensor): [number, number, number, number] {
  if (x.dim() !== 4) c.fail('wrong input rank', '[N, C, H, W] (2-D windows only)', shapeString(x.shape));
  return x.shape as [number, number, number, number];
}

/** Budgets a window op's im2col columns `[N, C·kH·kW, oH, oW]`; returns `[oH, oW]`. */
function columns(c: RunContext, x: Tensor, k: readonly number[], w: WindowAttrs): [number, number] {
  const [n, ch, h, wd] = image(c, x);
  const oh = windowOut(h, k[0]!, w.strides[0]!, w.pads[0], w.dilations[0]!, w.ceil);
  const ow = windowOut(wd, k[1]!, w.strides[1]!, w.pads[1], w.dilations[1]!, w.ceil);
  c.budget(n * ch * k[0]! * k[1]! * oh * ow, 'im2col columns');
  return [oh, ow];
}

const POOL_ATTRS = ['auto_pad', 'ceil_mode', 'kernel_shape', 'pads', 'strides', 'dilations'];

// ---------------------------------------------------------------- the table

/** Every operator except Constant (which the session folds into its constants when it loads). */
export const ONNX_OPS: Readonly<Record<string, OpSpec>> = {
  Identity: unary((x) => x),
  Relu: unary(relu),
  Sigmoid: unary(sigmoid),
  Tanh: unary(tanh),
  Exp: unary(exp),
  Log: unary(log),
  Sqrt: unary(sqrt),
  Neg: unary(neg),
  Abs: unary(abs),
  Sign: unary(sign),
  Not: unary(logicalNot),
  Erf: unary(erf),
  Softplus: unary((x) => softplus(x)),
  LeakyRelu: spec<number>({
    attrs: ['alpha'],
    inputs: [1, 1],
    prepare: (a) => a.float('alpha', 0.01),
    run: (x, alpha, c) => leakyRelu(need(x, 0, c), alpha),
  }),
  Elu: spec<number>({
    attrs: ['alpha'],
    inputs: [1, 1],
    prepare: (a) => a.float('alpha', 1),
    run: (x, alpha, c) => elu(need(x, 0, c), alpha),
  }),
  Gelu: spec<'none' | 'tanh'>({
    attrs: ['approximate'],
    inputs: [1, 1],
    prepare: (a) => {
      const v = a.string('approximate', 'none');
      return v === 'none' || v === 'tanh' ? v : a.unsupported('approximate', "'none' or 'tanh'", `'${v}'`);
    },
    run: (x, approximate, c) => gelu(need(x, 0, c), { approximate }),
  }),
  Add: binary(add),
  Sub: binary(sub),
  Mul: binary(mul),
  Div: binary(onnxDiv),
  Pow: binary((a, b) => pow(a, cast(b, a.dtype))),
  Equal: binary((a, b) => compare('eq', a, b)),
  Less: binary((a, b) => compare('lt', a, b)),
  LessOrEqual: binary((a, b) => compare('le', a, b)),
  Greater: binary((a, b) => compare('gt', a, b)),
  GreaterOrEqual: binary((a, b) => compare('ge', a, b)),
  Max: variadic(maximum),
  Min: variadic(minimum),
  Where: spec({
    inputs: [3, 3],
    run: (x, _p, c) => {
      const xs = [need(x, 0, c), need(x, 1, c), need(x, 2, c)] as const;
      broadcastAll(c, xs);
      return where(...xs);
    },
  }),
  Clip: spec({
    inputs: [1, 3],
    host: [1, 2],
    run: (x, _p, c, host) => {
      const bound = (v: readonly number[] | null): number | null => {
        if (v === null) return null;
        if (v.length !== 1) c.fail('min and max must be scalars', '1 value', `${v.length} values`);
        return v[0]!;
      };
      const [lo, hi] = [bound(host[1] ?? null), bound(host[2] ?? null)];
      const t = need(x, 0, c);
      return lo === null && hi === null ? t : clamp(t, lo, hi);
    },
  }),
  Cast: spec<DType>({
    attrs: ['to', 'saturate'],
    inputs: [1, 1],
    prepare: (a) => {
      const to = a.int('to', 0);
      return (
        ONNX_ELEM_DTYPE[to] ??
        a.unsupported('to', 'float (1), int32 (6), int64 (7), bool (9) or double (11)', String(to))
      );
    },
    run: (x, dtype, c) => cast(need(x, 0, c), dtype),
  }),
  Gemm: spec<{ alpha: number; beta: number; transA: boolean; transB: boolean }>({
    attrs: ['alpha', 'beta', 'transA', 'transB'],
    inputs: [2, 3],
    prepare: (a) => ({
      alpha: a.float('alpha', 1),
      beta: a.float('beta', 1),
      transA: a.choice('transA', 0, [0, 1]) === 1,
      transB: a.choice('transB', 0, [0, 1]) === 1,
    }),
    run: (x, p, c) => {
      const [a, b, bias] = [need(x, 0, c), need(x, 1, c), x[2] ?? null];
      if (a.dim() !== 2 || b.dim() !== 2)
        c.fail('A and B must be matrices', '2-D inputs', `${shapeString(a.shape)} and ${shapeString(b.shape)}`);
      const [m, k] = p.transA ? [a.shape[1]!, a.shape[0]!] : [a.shape[0]!, a.shape[1]!];
      const n = p.transB ? b.shape[0]! : b.shape[1]!;
      c.budget([m, n]);
      c.work(m * n * k);
      // torch's Linear: one fused x·wᵀ + b kernel.
      const fused = !p.transA && p.transB && p.alpha === 1 && p.beta === 1;
      if (fused && (bias === null || (bias.dim() === 1 && bias.shape[0] === n))) return linear(a, b, bias);
      let y = matmul(p.transA ? a.t() : a, p.transB ? b.t() : b);
      if (p.alpha !== 1) y = mul(y, p.alpha);
      if (bias === null) return y;
      broadcastAll(c, [y, bias]);
      return add(y, p.beta === 1 ? bias : mul(bias, p.beta));
    },
  }),
  MatMul: spec({
    inputs: [2, 2],
    run: (x, _p, c) => {
      const [a, b] = [need(x, 0, c), need(x, 1, c)];
      if (a.dim() === 0 || b.dim() === 0) return matmul(a, b);
      const m = a.dim() > 1 ? a.shape[a.dim() - 2]! : 1;
      const n = b.dim() > 1 ? b.shape[b.dim() - 1]! : 1;
      const batch = broadcastShapes('MatMul', a.shape.slice(0, -2), b.shape.slice(0, -2));
      c.budget([...batch, m, n]);
      c.work(numelOf(batch) * m * n * a.shape[a.dim() - 1]!);
      return matmul(a, b);
    },
  }),
  Conv: spec<WindowAttrs>({
    attrs: ['auto_pad', 'dilations', 'group', 'kernel_shape', 'pads', 'strides'],
    inputs: [2, 3],
    prepare: (a) => {
      const w = windowAttrs(a, false);
      if (!Number.isInteger(w.group) || w.group < 1) a.unsupported('group', 'an integer >= 1', String(w.group));
      return w;
    },
    run: (x, w, c) => {
      const [t, weight, bias] = [need(x, 0, c), need(x, 1, c), x[2] ?? null];
      image(c, t);
      if (weight.dim() !== 4) c.fail('weight must be 4-D', '[M, C/group, kH, kW]', shapeString(weight.shape));
      const k = weight.shape.slice(2);
      if (w.kernel !== null && (w.kernel[0] !== k[0] || w.kernel[1] !== k[1]))
        c.fail('kernel_shape differs from the weight', shapeString(k), shapeString(w.kernel));
      const [oh, ow] = columns(c, t, k, w);
      const out = t.shape[0]! * weight.shape[0]! * oh * ow;
      c.budget(out);
      c.work(out * numelOf(weight.shape.slice(1)));
      return conv2d(t, weight, bias, {
        stride: pair(w.strides),
        padding: w.pads,
        dilation: pair(w.dilations),
        groups: w.group,
      });
    },
  }),
  MaxPool: spec<WindowAttrs>({
    attrs: [...POOL_ATTRS, 'storage_order'],
    inputs: [1, 1],
    prepare: (a) => {
      a.choice('storage_order', 0, [0]);
      return windowAttrs(a, true);
    },
    run: (x, w, c) => {
      const t = need(x, 0, c);
      columns(c, t, w.kernel!, w);
      const o = { stride: pair(w.strides), padding: w.pads, dilation: pair(w.dilations), ceilMode: w.ceil };
      return maxPool2d(t, pair(w.kernel!), o);
    },
  }),
  AveragePool: spec<WindowAttrs>({
    attrs: [...POOL_ATTRS, 'count_include_pad'],
    inputs: [1, 1],
    prepare: (a) => {
      const w = windowAttrs(a, true);
      if (w.dilations.some((d) => d !== 1)) a.unsupported('dilations', '[1, 1]', `[${w.dilations.join(', ')}]`);
      return w;
    },
    run: (x, w, c) => {
      const t = need(x, 0, c);
      columns(c, t, w.kernel!, w);
      const o = { stride: pair(w.strides), padding: w.pads, ceilMode: w.ceil, countIncludePad: w.countIncludePad };
      return avgPool2d(t, pair(w.kernel!), o);
    },
  }),
  GlobalAveragePool: spec({
    inputs: [1, 1],
    run: (x, _p, c) => {
      const t = need(x, 0, c);
      if (t.dim() < 3) c.fail('wrong input rank', '[N, C, spatial...]', shapeString(t.shape));
      return t.mean(
        t.shape.map((_, i) => i).filter((i) => i >= 2),
        true,
      );
    },
  }),
  BatchNormalization: spec<number>({
    attrs: ['epsilon', 'momentum', 'training_mode'],
    inputs: [5, 5],
    prepare: (a) => {
      a.choice('training_mode', 0, [0]);
      return a.float('epsilon', 1e-5);
    },
    run: (x, eps, c) => {
      const [t, scale, bias, mean, variance] = [0, 1, 2, 3, 4].map((i) => need(x, i, c)) as [
        Tensor,
        Tensor,
        Tensor,
        Tensor,
        Tensor,
      ];
      if (t.dim() < 2) c.fail('wrong input rank', '[N, C, ...]', shapeString(t.shape));
      const ch = t.shape[1]!;
      for (const s of [scale, bias, mean, variance]) {
        if (s.dim() !== 1 || s.shape[0] !== ch)
          c.fail('a per-channel input has the wrong shape', `[${ch}]`, shapeString(s.shape));
      }
      // As torch's eval batch_norm: (x − mean) / √(var + ε) · scale + bias, per channel.
      const b = t.shape.map((s, i) => (i === 1 ? s : 1));
      const y = sub(t, mean.view(b)).mul(variance.add(eps).rsqrt().view(b));
      return y.mul(scale.view(b)).add(bias.view(b));
    },
  }),
  LayerNormalization: spec<{ axis: number; eps: number }>({
    attrs: ['axis', 'epsilon', 'stash_type'],
    inputs: [2, 3],
    prepare: (a) => ({ axis: a.int('axis', -1), eps: a.float('epsilon', 1e-5) }),
    run: (x, p, c) => {
      const [t, scale, bias] = [need(x, 0, c), need(x, 1, c), x[2] ?? null];
      const first = axis(c, p.axis, t.dim());
      const dims = t.shape.map((_, i) => i).filter((i) => i >= first);
      // torch's layer_norm: the biased variance over the trailing dims.
      const diff = t.sub(t.mean(dims, true));
      const y = diff.mul(diff.mul(diff).mean(dims, true).add(p.eps).rsqrt()).mul(scale);
      return bias === null ? y : y.add(bias);
    },
  }),
  Softmax: spec<number>({
    attrs: ['axis'],
    inputs: [1, 1],
    prepare: (a) => a.int('axis', -1),
    run: (x, ax, c) => softmax(need(x, 0, c), ax),
  }),
  LogSoftmax: spec<number>({
    attrs: ['axis'],
    inputs: [1, 1],
    prepare: (a) => a.int('axis', -1),
    run: (x, ax, c) => logSoftmax(need(x, 0, c), ax),
  }),
  ReduceSum: reduce((x, dims, keep) => sum(x, dims, keep)),
  ReduceMean: reduce((x, dims, keep) => x.mean(dims, keep)),
  ReduceMax: reduce((x, dims, keep) => extreme('max', x, dims, keep)),
  ReduceMin: reduce((x, dims, keep) => extreme('min', x, dims, keep)),
  ReduceLogSumExp: reduce((x, dims, keep) => logSumExp(x, dims, keep)),
  ArgMax: argExtreme('argmax'),
  ArgMin: argExtreme('argmin'),
  Flatten: spec<number>({
    attrs: ['axis'],
    inputs: [1, 1],
    prepare: (a) => a.int('axis', 1),
    run: (x, ax, c) => {
      const t = need(x, 0, c);
      const r = t.dim();
      if (!Number.isInteger(ax) || ax < -r || ax > r) c.fail('axis out of range', `${-r} <= axis <= ${r}`, String(ax));
      const a = ax < 0 ? ax + r : ax;
      return t.reshape([numelOf(t.shape.slice(0, a)), numelOf(t.shape.slice(a))]);
    },
  }),
  Reshape: spec<boolean>({
    attrs: ['allowzero'],
    inputs: [2, 2],
    host: [1],
    prepare: (a) => a.choice('allowzero', 0, [0, 1]) === 1,
    run: (x, allowZero, c, host) => {
      const t = need(x, 0, c);
      const target = (host[1] ?? []).map((s, i) => {
        if (!Number.isInteger(s) || s < -1) c.fail('invalid shape', 'integer sizes >= -1', `[${host[1]!.join(', ')}]`);
        if (s !== 0 || allowZero) return s;
        // 0 copies the input's size at that index (allowzero = 0).
        return (
          t.shape[i] ?? c.fail('a 0 in the shape has no input dim to copy', `at most ${t.dim()} entries`, String(i))
        );
      });
      return t.reshape(target);
    },
  }),
  Transpose: spec<readonly number[] | null>({
    attrs: ['perm'],
    inputs: [1, 1],
    prepare: (a) => a.ints('perm'),
    run: (x, perm, c) => {
      const t = need(x, 0, c);
      return t.permute([...(perm ?? t.shape.map((_, i) => t.dim() - 1 - i))]);
    },
  }),
  Slice: spec({
    inputs: [3, 5],
    host: [1, 2, 3, 4],
    run: (x, _p, c, host) => {
      let t = need(x, 0, c);
      const [starts, ends] = [host[1] ?? [], host[2] ?? []];
      const axes = host[3] ?? starts.map((_, i) => i);
      const steps = host[4] ?? starts.map(() => 1);
      if (ends.length !== starts.length || axes.length !== starts.length || steps.length !== starts.length)
        c.fail(
          'starts, ends, axes and steps differ in length',
          `${starts.length} each`,
          `${ends.length}, ${axes.length}, ${steps.length}`,
        );
      if ([...starts, ...ends].some((v) => !Number.isInteger(v)))
        c.fail(
          'starts and ends must be integers',
          'int32 or int64 values',
          `[${starts.join(', ')}] and [${ends.join(', ')}]`,
        );
      const seen = new Set<number>();
      starts.forEach((start, i) => {
        const d = axis(c, axes[i]!, t.dim());
        if (seen.has(d)) c.fail('an axis appears twice', 'distinct axes', `[${axes.join(', ')}]`);
        seen.add(d);
        const step = steps[i]!;
        if (step < 0) unsupportedValue(c, 'steps', 'positive steps', String(step));
        if (!Number.isInteger(step) || step === 0) c.fail('invalid step', 'a non-zero integer', String(step));
        t = t.slice(d, start, ends[i]!, step);
      });
      return t;
    },
  }),
  Expand: spec({
    inputs: [2, 2],
    host: [1],
    run: (x, _p, c, host) => {
      const t = need(x, 0, c);
      const shape = broadcastShapes('Expand', t.shape, sizes(c, host[1] ?? [], 'shape'));
      c.budget(shape);
      return t.expand(shape);
    },
  }),
  Squeeze: spec({
    inputs: [1, 2],
    host: [1],
    run: (x, _p, c, host) => {
      const t = need(x, 0, c);
      const axes = host[1];
      if (axes === null || axes === undefined) return t.reshape(t.shape.filter((s) => s !== 1));
      const dims = axes.map((a) => axis(c, a, t.dim()));
      for (const d of dims) if (t.shape[d] !== 1) c.fail(`dim ${d} is not of size 1`, 'size 1', shapeString(t.shape));
      return t.reshape(t.shape.filter((_, i) => !dims.includes(i)));
    },
  }),
  Unsqueeze: spec({
    inputs: [2, 2],
    host: [1],
    run: (x, _p, c, host) => {
      const t = need(x, 0, c);
      const rank = t.dim() + (host[1] ?? []).length;
      const dims = (host[1] ?? []).map((a) => axis(c, a, rank));
      if (new Set(dims).size !== dims.length)
        c.fail('an axis appears twice', 'distinct axes', `[${host[1]!.join(', ')}]`);
      const rest = [...t.shape];
      return t.reshape(Array.from({ length: rank }, (_, i) => (dims.includes(i) ? 1 : rest.shift()!)));
    },
  }),
  Concat: spec<number>({
    attrs: ['axis'],
    inputs: [1, 2 ** 31],
    prepare: (a) => nullableInt(a, 'axis') ?? a.unsupported('axis', 'an axis (it is required)', 'none'),
    run: (x, ax, c) => {
      const xs = x.map((_, i) => need(x, i, c));
      c.budget(xs.reduce((n, t) => n + t.numel(), 0));
      return cat(xs, axis(c, ax, xs[0]!.dim()));
    },
  }),
  Gather: spec<number>({
    attrs: ['axis'],
    inputs: [2, 2],
    prepare: (a) => a.int('axis', 0),
    run: (x, ax, c) => {
      const [t, idx] = [need(x, 0, c), need(x, 1, c)];
      const d = axis(c, ax, t.dim());
      const shape = [...t.shape.slice(0, d), ...idx.shape, ...t.shape.slice(d + 1)];
      c.budget(shape);
      const flat = wrapIndices(idx, t.shape[d]!).reshape([-1]);
      return viaInt(t, (v) => indexSelect(v, d, flat)).reshape(shape);
    },
  }),
  GatherElements: spec<number>({
    attrs: ['axis'],
    inputs: [2, 2],
    prepare: (a) => a.int('axis', 0),
    run: (x, ax, c) => {
      const [t, idx] = [need(x, 0, c), need(x, 1, c)];
      const d = axis(c, ax, t.dim());
      return viaInt(t, (v) => gather(v, d, wrapIndices(idx, t.shape[d]!)));
    },
  }),
  Shape: spec<{ start: number; end: number | null }>({
    attrs: ['start', 'end'],
    inputs: [1, 1],
    prepare: (a) => ({ start: a.int('start', 0), end: nullableInt(a, 'end') }),
    run: (x, p, c) => {
      const t = need(x, 0, c);
      const r = t.dim();
      const at = (v: number): number => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
      const dims = t.shape.slice(at(p.start), at(p.end ?? r));
      if (dims.some((s) => s > 2 ** 31 - 1))
        c.fail('a dim is past the int32 range', 'sizes < 2^31', shapeString(t.shape));
      return Tensor.fromArray(t.backend, 'int32', [dims.length], Int32Array.from(dims));
    },
  }),
  ConstantOfShape: spec<{ dtype: DType; value: number }>({
    attrs: ['value'],
    inputs: [1, 1],
    host: [0],
    prepare: (a) => {
      const v = a.tensor('value');
      if (v === null) return { dtype: 'float32', value: 0 };
      const dtype = ONNX_ELEM_DTYPE[v.dataType];
      if (dtype === undefined || numelOf(v.dims) !== 1)
        return a.unsupported(
          'value',
          'a one-element float, int or bool tensor',
          `type ${v.dataType} dims [${v.dims.join(', ')}]`,
        );
      return { dtype, value: scalarOf(v) };
    },
    run: (x, p, c, host) => {
      const shape = sizes(c, host[0] ?? [], 'shape');
      c.budget(shape);
      return full(shape, p.value, { dtype: p.dtype, backend: need(x, 0, c).backend });
    },
  }),
  Dropout: spec({
    attrs: ['seed'],
    inputs: [1, 3],
    host: [2],
    run: (x, _p, c, host) => {
      // Inference: the identity, unless the file asks for training_mode.
      if ((host[2]?.[0] ?? 0) !== 0) unsupportedValue(c, 'training_mode', 'false (inference)', 'true');
      return need(x, 0, c);
    },
  }),
};

function argExtreme(op: 'argmax' | 'argmin'): OpSpec<unknown> {
  return spec<{ axis: number; keep: boolean }>({
    attrs: ['axis', 'keepdims', 'select_last_index'],
    inputs: [1, 1],
    prepare: (a) => {
      a.choice('select_last_index', 0, [0]);
      return { axis: a.int('axis', 0), keep: a.choice('keepdims', 1, [0, 1]) === 1 };
    },
    run: (x, p, c) => {
      const t = need(x, 0, c);
      return t[op](axis(c, p.axis, t.dim()), p.keep);
    },
  });
}

function pair(v: readonly number[]): [number, number] {
  return [v[0]!, v[1]!];
}

function nullableInt(a: Attrs, name: string): number | null {
  const v = a.int(name, Number.NaN);
  return Number.isNaN(v) ? null : v;
}

function unsupportedValue(c: RunContext, input: string, expected: string, got: string): never {
  throw new OnnxUnsupportedError(
    `onnx: unsupported ${input} of ${c.ref.opType} at ${describeNode(c.ref)}; expected ${expected}, got ${got}`,
    c.ref,
    input,
  );
}

/** The one value of a one-element TensorProto (little-endian raw data). */
export function scalarOf(t: OnnxTensor): number {
  return tensorValues(t)[0] ?? 0;
}

/**
 * A TensorProto's values as numbers (int64 through BigInt, exact below 2^53), for constants
 * read on the host.
 */
export function tensorValues(t: OnnxTensor): number[] {
  const v = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength);
  const n = numelOf(t.dims);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    if (t.dataType === 1) out[i] = v.getFloat32(i * 4, true);
    else if (t.dataType === 6) out[i] = v.getInt32(i * 4, true);
    else if (t.dataType === 7) out[i] = Number(v.getBigInt64(i * 8, true));
    else if (t.dataType === 9) out[i] = v.getUint8(i) === 0 ? 0 : 1;
    else if (t.dataType === 11) out[i] = v.getFloat64(i * 8, true);
    else out[i] = Number.NaN; // not reached: the session admits only the types above
  }
  return out;
}

/** The names this interpreter runs, Constant included. */
export const SUPPORTED_ONNX_OPS: readonly string[] = [...Object.keys(ONNX_OPS), 'Constant'].sort();
