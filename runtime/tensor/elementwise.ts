/**
 * @module tensor/elementwise — unary, binary and ternary elementwise ops with their gradients.
 *
 * Type promotion follows torch.result_type: a dimensioned tensor decides the
 * dtype unless a scalar (or 0-d tensor) is of a higher category
 * (bool < integer < float), in which case that category's default wins
 * (`int32` tensor * 0.5 is float32).
 */
import type { Backend } from '../backend.ts';
import { checkDType, isFloating, promoteTypes, type DType } from '../dtype.ts';
import { DTypeError, ValueError } from '../errors.ts';
import type { Activation, ActivationAttrs, BinaryOp, UnaryOp } from '../ops.ts';
import { broadcastShapes, type Shape } from '../shape.ts';
import {
  Tensor,
  broadcastView,
  record,
  runOp,
  sameBackend,
  scalarDType,
  scalarLike,
  sumTo,
  type GeluOptions,
  type SoftplusOptions,
  type TensorLike,
} from './tensor.ts';
import { traceOp } from './trace.ts';

export { broadcastView, scalarLike, type GeluOptions, type SoftplusOptions };

const FLOATS: readonly DType[] = ['float32', 'float64'];
const NUMERIC: readonly DType[] = ['float32', 'float64', 'int32'];

function category(d: DType): number {
  return d === 'bool' ? 0 : d === 'int32' ? 1 : 2;
}

/** The dtype an op on these operands computes in, as torch.result_type. */
export function resultType(...operands: readonly TensorLike[]): DType {
  let dimmed: DType | null = null;
  let zeroDim: DType | null = null;
  let scalar: DType | null = null;
  for (const o of operands) {
    if (o instanceof Tensor) {
      if (o.dim() > 0) dimmed = dimmed === null ? o.dtype : promoteTypes(dimmed, o.dtype);
      else zeroDim = zeroDim === null ? o.dtype : promoteTypes(zeroDim, o.dtype);
    } else {
      const d = scalarDType(o);
      scalar = scalar === null ? d : promoteTypes(scalar, d);
    }
  }
  let r = dimmed ?? zeroDim ?? scalar ?? 'float32';
  for (const lower of [zeroDim, scalar]) {
    if (lower !== null && category(lower) > category(r))
      r = lower === 'int32' ? 'int32' : lower === 'bool' ? 'bool' : r === 'float64' ? r : lower;
  }
  return r;
}

/** A contiguous tensor of `shape` filled with `value`. */
export function fullOn(backend: Backend, shape: Shape, value: number, dtype: DType): Tensor {
  return runOp('fill', backend, dtype, shape, [], { value });
}

/** A contiguous tensor of zeros. */
export function zerosOn(backend: Backend, shape: Shape, dtype: DType): Tensor {
  return fullOn(backend, shape, 0, dtype);
}

function asTensor(v: TensorLike, like: Tensor, dtype: DType): Tensor {
  return v instanceof Tensor ? cast(v, dtype) : scalarLike(v, like, dtype);
}

/**
 * Converts to `dtype`; a no-op when it already is. Gradients flow between float dtypes.
 * @example cast(tensor([1.7, -1.7]), 'int32') // [1, -1]
 */
export function cast(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return x;
  const out = traceOp('cast', runOp('cast', x.backend, dtype, x.shape, [x.view_()], {}), [x], { dtype });
  if (!isFloating(dtype) || !isFloating(x.dtype)) return out;
  const from = x.dtype;
  return record(out, 'ToCopy', [x], (g) => [cast(g, from)]);
}

// --------------------------------------------------------------------- unary

function unary(op: UnaryOp, x: Tensor, allowed: readonly DType[], attrs: never = {} as never): Tensor {
  checkDType(op, x.dtype, allowed);
  return traceOp(op, runOp(op, x.backend, x.dtype, x.shape, [x.view_()], attrs), [x], attrs);
}

const DEFAULT_ACT: ActivationAttrs = { alpha: 0, beta: 1, threshold: 20 };

function activation(fn: Activation, x: Tensor, attrs: ActivationAttrs, name: string): Tensor {
  checkDType(fn, x.dtype, FLOATS);
  const out = traceOp(fn, runOp(fn, x.backend, x.dtype, x.shape, [x.view_()], attrs), [x], attrs);
  return record(out, name, [x], (g) => [
    runOp('unary_backward', g.backend, g.dtype, g.shape, [x.view_(), g.view_()], { ...attrs, fn }),
  ]);
}

/** max(x, 0). */
export function relu(x: Tensor): Tensor {
  return activation('relu', x, DEFAULT_ACT, 'Relu');
}
/** x for x > 0, else negativeSlope * x. */
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  return activation('leaky_relu', x, { ...DEFAULT_ACT, alpha: negativeSlope }, 'LeakyRelu');
}
/** 1 / (1 + e^-x). */
export function sigmoid(x: Tensor): Tensor {
  return activation('sigmoid', x, DEFAULT_ACT, 'Sigmoid');
}
/** tanh(x). */
export function tanh(x: Tensor): Tensor {
  return activation('tanh', x, DEFAULT_ACT, 'Tanh');
}

/** x·Φ(x), exact or with the tanh approximation. */
export function gelu(x: Tensor, options: GeluOptions = {}): Tensor {
  return options.approximate === 'tanh'
    ? activation('gelu_tanh', x, DEFAULT_ACT, 'Gelu')
    : activation('gelu', x, DEFAULT_ACT, 'Gelu');
}
/** x·sigmoid(x). */
export function silu(x: Tensor): Tensor {
  return activation('silu', x, DEFAULT_ACT, 'Silu');
}
/** log(1 + e^(βx))/β, and x where βx > threshold. */
export function softplus(x: Tensor, options: SoftplusOptions = {}): Tensor {
  return activation(
    'softplus',
    x,
    { ...DEFAULT_ACT, beta: options.beta ?? 1, threshold: options.threshold ?? 20 },
    'Softplus',
  );
}
/** x for x > 0, else alpha·(e^x − 1). */
export function elu(x: Tensor, alpha = 1): Tensor {
  return activation('elu', x, { ...DEFAULT_ACT, alpha }, 'Elu');
}

/** −x. */
export function neg(x: Tensor): Tensor {
  const out = unary('neg', x, NUMERIC);
  return record(out, 'Neg', [x], (g) => [neg(g)]);
}

/** |x|. */
export function abs(x: Tensor): Tensor {
  const out = unary('abs', x, NUMERIC);
  return record(out, 'Abs', [x], (g) => [mul(g, sign(x))]);
}

/** −1, 0 or 1 by the sign of x (0 for NaN, as torch). Its gradient is zero. */
export function sign(x: Tensor): Tensor {
  const out = unary('sign', x, NUMERIC);
  return record(out, 'Sign', [x], (g) => [zerosOn(g.backend, g.shape, g.dtype)]);
}

/** e^x. */
export function exp(x: Tensor): Tensor {
  const out = unary('exp', floatOperand(x), FLOATS);
  return record(out, 'Exp', [x], (g) => [mul(g, out)]);
}

/** Natural logarithm. */
export function log(x: Tensor): Tensor {
  const xf = floatOperand(x);
  const out = unary('log', xf, FLOATS);
  return record(out, 'Log', [x], (g) => [div(g, xf)]);
}

/** √x. */
export function sqrt(x: Tensor): Tensor {
  const out = unary('sqrt', floatOperand(x), FLOATS);
  return record(out, 'Sqrt', [x], (g) => [div(g, mul(out, 2))]);
}

/** 1/√x. */
export function rsqrt(x: Tensor): Tensor {
  return div(1, sqrt(x));
}

function floatOperand(x: Tensor): Tensor {
  return isFloating(x.dtype) ? x : cast(x, 'float32');
}

/**
 * Clamps into [min, max]; either side may be null. The gradient flows where
 * min <= x <= max, as torch.clamp.
 */
export function clamp(x: Tensor, min: number | null, max: number | null = null): Tensor {
  if (min === null && max === null) {
    throw new ValueError('clamp: no bound given; expected at least one of min and max, got neither');
  }
  const out = unary('clamp', x, NUMERIC, { min, max } as never);
  return record(out, 'Clamp', [x], (g) => {
    let m = g;
    if (max !== null) m = where(le(x, max), m, 0);
    if (min !== null) m = where(ge(x, min), m, 0);
    return [m];
  });
}

/**
 * x rounded to the nearest float16 value (ties to even), kept in x's dtype: torch's
 * `x.half().float()`, with overflow to ±Infinity. Its gradient is straight-through (the
 * gradient of a cast is the cast back, the identity on float32).
 * @example roundF16(tensor([0.1, 70000])) // [0.0999755859375, Infinity]
 */
export function roundF16(x: Tensor): Tensor {
  const out = unary('round_f16', x, FLOATS);
  return record(out, 'RoundF16', [x], (g) => [g]);
}

/**
 * x rounded to the nearest bfloat16 value (ties to even), kept in x's dtype: torch's
 * `x.bfloat16().float()`. Its gradient is straight-through, as `roundF16`'s.
 * @example roundBF16(tensor([0.1])) // [0.10009765625]
 */
export function roundBF16(x: Tensor): Tensor {
  const out = unary('round_bf16', x, FLOATS);
  return record(out, 'RoundBF16', [x], (g) => [g]);
}

/** Elementwise NOT of a bool tensor. */
export function logicalNot(x: Tensor): Tensor {
  return unary('logical_not', cast(x, 'bool'), ['bool']);
}

// -------------------------------------------------------------------- binary

function operands(op: string, a: TensorLike, b: TensorLike, dtype: DType): [Tensor, Tensor] {
  const like = a instanceof Tensor ? a : b instanceof Tensor ? b : null;
  if (like === null) throw new DTypeError(`${op}: no tensor operand; expected at least one Tensor, got two scalars`);
  const ta = asTensor(a, like, dtype);
  const tb = asTensor(b, like, dtype);
  sameBackend(op, [ta, tb]);
  return [ta, tb];
}

function binary(op: BinaryOp, ta: Tensor, tb: Tensor, outDType: DType): Tensor {
  const shape = broadcastShapes(op, ta.shape, tb.shape);
  const out = runOp(op, ta.backend, outDType, shape, [broadcastView(op, ta, shape), broadcastView(op, tb, shape)], {});
  return traceOp(op, out, [ta, tb]);
}

/** The gradient rule's view of an operand: the tensor, or null when none flows to it. */
function wants(t: TensorLike): boolean {
  return t instanceof Tensor && t.requiresGrad;
}

/** a + b, broadcasting. */
export function add(a: TensorLike, b: TensorLike): Tensor {
  const dtype = arithmeticType('add', a, b);
  const [ta, tb] = operands('add', a, b, dtype);
  const out = binary('add', ta, tb, dtype);
  return record(out, 'Add', [ta, tb], (g) => [
    wants(ta) ? sumTo(g, ta.shape) : null,
    wants(tb) ? sumTo(g, tb.shape) : null,
  ]);
}

/** a − b, broadcasting. */
export function sub(a: TensorLike, b: TensorLike): Tensor {
  const dtype = arithmeticType('sub', a, b);
  const [ta, tb] = operands('sub', a, b, dtype);
  const out = binary('sub', ta, tb, dtype);
  return record(out, 'Sub', [ta, tb], (g) => [
    wants(ta) ? sumTo(g, ta.shape) : null,
    wants(tb) ? sumTo(neg(g), tb.shape) : null,
  ]);
}

/** a · b, broadcasting. */
export function mul(a: TensorLike, b: TensorLike): Tensor {
  const dtype = arithmeticType('mul', a, b);
  const [ta, tb] = operands('mul', a, b, dtype);
  const out = binary('mul', ta, tb, dtype);
  return record(out, 'Mul', [ta, tb], (g) => [
    wants(ta) ? sumTo(mul(g, tb), ta.shape) : null,
    wants(tb) ? sumTo(mul(g, ta), tb.shape) : null,
  ]);
}

/** a / b, broadcasting; integers divide in float32 (true division, as torch.div). */
export function div(a: TensorLike, b: TensorLike): Tensor {
  let dtype = arithmeticType('div', a, b);
  if (!isFloating(dtype)) dtype = 'float32';
  const [ta, tb] = operands('div', a, b, dtype);
  const out = binary('div', ta, tb, dtype);
  return record(out, 'Div', [ta, tb], (g) => [
    wants(ta) ? sumTo(div(g, tb), ta.shape) : null,
    wants(tb) ? sumTo(neg(div(mul(g, out), tb)), tb.shape) : null,
  ]);
}

/**
 * a^b, broadcasting. The exponent's gradient is 0 where a == 0 and b >= 0,
 * as torch's pow_backward_exponent.
 */
export function pow(a: TensorLike, b: TensorLike): Tensor {
  const dtype = arithmeticType('pow', a, b);
  const [ta, tb] = operands('pow', a, b, dtype);
  const out = binary('pow', ta, tb, dtype);
  return record(out, 'Pow', [ta, tb], (g) => [
    wants(ta) ? sumTo(mul(g, mul(tb, pow(ta, sub(tb, 1)))), ta.shape) : null,
    wants(tb)
      ? sumTo(where(eq(ta, 0), where(ge(tb, 0), 0, mul(g, mul(out, log(ta)))), mul(g, mul(out, log(ta)))), tb.shape)
      : null,
  ]);
}

/**
 * Elementwise maximum, propagating NaN. At ties the gradient is split in half, as torch.maximum.
 */
export function maximum(a: TensorLike, b: TensorLike): Tensor {
  return extreme('maximum', a, b);
}

/** Elementwise minimum, propagating NaN; ties split the gradient. */
export function minimum(a: TensorLike, b: TensorLike): Tensor {
  return extreme('minimum', a, b);
}

function extreme(op: 'maximum' | 'minimum', a: TensorLike, b: TensorLike): Tensor {
  const dtype = arithmeticType(op, a, b);
  const [ta, tb] = operands(op, a, b, dtype);
  const out = binary(op, ta, tb, dtype);
  return record(out, op === 'maximum' ? 'Maximum' : 'Minimum', [ta, tb], (g) => {
    const aWins = op === 'maximum' ? gt(ta, tb) : lt(ta, tb);
    const tie = eq(ta, tb);
    const half = mul(g, 0.5);
    return [
      wants(ta) ? sumTo(where(aWins, g, where(tie, half, 0)), ta.shape) : null,
      wants(tb) ? sumTo(where(aWins, 0, where(tie, half, g)), tb.shape) : null,
    ];
  });
}

function arithmeticType(op: string, a: TensorLike, b: TensorLike): DType {
  const d = resultType(a, b);
  // bool arithmetic computes in int32 (torch keeps bool for add/mul; we have no bool kernels).
  const r = d === 'bool' ? 'int32' : d;
  checkDType(op, r, NUMERIC);
  return r;
}

/** Elementwise comparison; the result is bool. */
export function compare(op: 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge', a: TensorLike, b: TensorLike): Tensor {
  let dtype = resultType(a, b);
  if (dtype === 'bool') dtype = 'int32';
  const [ta, tb] = operands(op, a, b, dtype);
  return binary(op, ta, tb, 'bool');
}

/** a == b. */
export function eq(a: TensorLike, b: TensorLike): Tensor {
  return compare('eq', a, b);
}
/** a != b. */
export function ne(a: TensorLike, b: TensorLike): Tensor {
  return compare('ne', a, b);
}
/** a < b. */
export function lt(a: TensorLike, b: TensorLike): Tensor {
  return compare('lt', a, b);
}
/** a <= b. */
export function le(a: TensorLike, b: TensorLike): Tensor {
  return compare('le', a, b);
}
/** a > b. */
export function gt(a: TensorLike, b: TensorLike): Tensor {
  return compare('gt', a, b);
}
/** a >= b. */
export function ge(a: TensorLike, b: TensorLike): Tensor {
  return compare('ge', a, b);
}

/**
 * `cond ? a : b` elementwise, broadcasting all three, as torch.where.
 * @example where(x.gt(0), x, 0) // relu
 */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  if (cond.dtype !== 'bool') {
    throw new DTypeError(`where: condition must be bool; expected bool, got ${cond.dtype}`);
  }
  const dtype = resultType(a, b);
  const like = a instanceof Tensor ? a : b instanceof Tensor ? b : cond;
  const ta = asTensor(a, like, dtype);
  const tb = asTensor(b, like, dtype);
  sameBackend('where', [cond, ta, tb]);
  const shape = broadcastShapes('where', broadcastShapes('where', cond.shape, ta.shape), tb.shape);
  const out = runOp(
    'where',
    cond.backend,
    dtype,
    shape,
    [broadcastView('where', cond, shape), broadcastView('where', ta, shape), broadcastView('where', tb, shape)],
    {},
  );
  traceOp('where', out, [cond, ta, tb]);
  if (!isFloating(dtype)) return out;
  return record(out, 'Where', [ta, tb], (g) => [
    wants(ta) ? sumTo(where(cond, g, 0), ta.shape) : null,
    wants(tb) ? sumTo(where(cond, 0, g), tb.shape) : null,
  ]);
}
