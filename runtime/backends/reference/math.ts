/**
 * @module backends/reference/math — the scalar formula of every elementwise primitive, in float64.
 *
 * The reference backend applies these element by element and then rounds into the
 * output's storage (Float32Array rounds to nearest, Int32Array wraps). Each formula
 * is the one PyTorch's CPU kernels use, cited beside it, so other backends can read
 * what they must match.
 */
import type { DType } from '../../dtype.ts';
import type { Activation, ActivationAttrs, BinaryOp, OpAttrs, UnaryOp } from '../../ops.ts';
import { erf } from './special.ts';
import { roundToBFloat16, roundToHalf } from '../../float16.ts';

/** A scalar function of one element, e.g. `unaryScalar('exp', 'float64', {})`. */
export type ScalarFn1 = (x: number) => number;
/** A scalar function of two elements, e.g. `binaryScalar('add', 'int32')`. */
export type ScalarFn2 = (a: number, b: number) => number;

/** 1 / sqrt(2), torch's M_SQRT1_2. */
const SQRT1_2 = Math.SQRT1_2;
/** sqrt(2 / pi), torch's kBeta = M_SQRT2 * M_2_SQRTPI * 0.5 for gelu tanh. */
const GELU_TANH_BETA = Math.SQRT2 * (2 / Math.sqrt(Math.PI)) * 0.5;
/** torch's kKappa for gelu tanh. */
const GELU_TANH_KAPPA = 0.044715;
/** 1 / sqrt(2 pi), torch's kAlpha = M_2_SQRTPI * M_SQRT1_2 * 0.5 for the gelu backward. */
const GELU_PDF_ALPHA = (2 / Math.sqrt(Math.PI)) * SQRT1_2 * 0.5;

/** std::max(a, b) of C++: `(a < b) ? b : a`, so a NaN bound is ignored and a NaN `a` stays. */
function stdMax(a: number, b: number): number {
  return a < b ? b : a;
}

/** std::min(a, b) of C++: `(b < a) ? b : a`. */
function stdMin(a: number, b: number): number {
  return b < a ? b : a;
}

/**
 * Converts a float64 result to what storing it as `dtype` keeps, as `cast` defines it.
 * @example toDType('int32', -2.7) // -2
 */
export function toDType(dtype: DType, v: number): number {
  switch (dtype) {
    case 'float64':
      return v;
    case 'float32':
      return Math.fround(v);
    // Truncation toward zero, then modulo 2^32 (ECMAScript ToInt32, as Int32Array stores);
    // NaN and ±Inf give 0. torch leaves out-of-range float → int undefined; we fix it here.
    case 'int32':
      return v | 0;
    // torch: bool(x) is x != 0, so NaN is true.
    case 'bool':
      return v !== 0 ? 1 : 0;
  }
}

/**
 * The exact int32 power of torch's `powi_impl`: repeated squaring modulo 2^32; a negative
 * exponent gives 0, except 1 → 1 and -1 → ±1 by the exponent's parity.
 * @example intPow(3, 4) // 81
 */
export function intPow(base: number, exp: number): number {
  if (exp < 0) {
    if (base === 1) return 1;
    if (base === -1) return (exp & 1) === 0 ? 1 : -1;
    return 0;
  }
  let result = 1;
  let b = base | 0;
  let e = exp;
  while (e > 0) {
    if ((e & 1) === 1) result = Math.imul(result, b);
    b = Math.imul(b, b);
    e = Math.floor(e / 2);
  }
  return result;
}

/**
 * Float pow as ops.ts specifies it: Math.pow. Note that torch (C's pow) differs in two
 * corners, pow(1, NaN) = 1 and pow(-1, ±Inf) = 1, where Math.pow gives NaN; the tensor
 * layer may special-case them if fixtures ever need torch's answer.
 * @example floatPow(2, 0.5) // Math.SQRT2
 */
export function floatPow(a: number, b: number): number {
  return Math.pow(a, b);
}

/** sigmoid(x) = 1 / (1 + exp(-x)), as torch's CPU kernel. */
function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/**
 * The scalar function of a unary primitive for `dtype`.
 * @example unaryScalar('relu', 'float32', {})(-2) // 0
 */
export function unaryScalar<O extends UnaryOp>(op: O, dtype: DType, attrs: OpAttrs[O]): ScalarFn1 {
  return UNARY_SCALARS[op](dtype === 'int32', attrs);
}

/** Each unary op's formula, typed by its attributes (`isInt`: the dtype is int32). */
const UNARY_SCALARS: { readonly [O in UnaryOp]: (isInt: boolean, attrs: OpAttrs[O]) => ScalarFn1 } = {
  // int32: -(-2^31) wraps to -2^31, as torch.
  neg: (isInt) => (isInt ? (x) => -x | 0 : (x) => -x),
  abs: (isInt) => (isInt ? (x) => Math.abs(x) | 0 : (x) => Math.abs(x)),
  // torch: (0 < x) - (x < 0), so sign(NaN) = 0 and sign(-0) = +0 (pytorch#41245).
  sign: () => (x) => Number(0 < x) - Number(x < 0),
  exp: () => Math.exp,
  log: () => Math.log,
  sqrt: () => Math.sqrt,
  // torch.relu is clamp_min(x, 0): isnan(x) ? x : std::max(x, 0), so NaN stays NaN.
  relu: () => (x) => (Number.isNaN(x) ? x : stdMax(x, 0)),
  sigmoid: () => sigmoid,
  tanh: () => Math.tanh,
  // torch GeluType::None: x * 0.5 * (1 + erf(x / sqrt(2))).
  gelu: () => (x) => x * 0.5 * (1 + erf(x * SQRT1_2)),
  // torch GeluType::Tanh: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
  gelu_tanh: () => (x) => 0.5 * x * (1 + Math.tanh(GELU_TANH_BETA * (x + GELU_TANH_KAPPA * x * x * x))),
  // torch: x * sigmoid(x), computed as x / (1 + exp(-x)).
  silu: () => (x) => x / (1 + Math.exp(-x)),
  // torch: (x * beta) > threshold ? x : log1p(exp(x * beta)) / beta.
  softplus:
    (_isInt, { beta, threshold }) =>
    (x) =>
      x * beta > threshold ? x : Math.log1p(Math.exp(x * beta)) / beta,
  // torch (scale = input_scale = 1): x <= 0 ? expm1(x) * alpha : x.
  elu:
    (_isInt, { alpha }) =>
    (x) =>
      x <= 0 ? Math.expm1(x) * alpha : x,
  // torch: x > 0 ? x : x * negative_slope (NaN gives NaN * slope = NaN).
  leaky_relu:
    (_isInt, { alpha }) =>
    (x) =>
      x > 0 ? x : x * alpha,
  // torch clamp_scalar: isnan(x) ? x : std::min(std::max(x, min), max); a null side is skipped.
  // With min > max every element becomes max, as torch documents.
  clamp:
    (_isInt, { min, max }) =>
    (x) => {
      if (Number.isNaN(x)) return x;
      let r = x;
      if (min !== null) r = stdMax(r, min);
      if (max !== null) r = stdMin(r, max);
      return r;
    },
  logical_not: () => (x) => (x === 0 ? 1 : 0),
  // torch's float → Half / BFloat16 conversions: round to nearest even, overflow to ±inf.
  round_f16: () => roundToHalf,
  round_bf16: () => roundToBFloat16,
};

/**
 * The scalar function of a binary primitive for `dtype` (the inputs' dtype). Comparisons
 * return 0 or 1.
 * @example binaryScalar('maximum', 'float32')(1, NaN) // NaN
 */
export function binaryScalar(op: BinaryOp, dtype: DType): ScalarFn2 {
  const isInt = dtype === 'int32';
  switch (op) {
    // int32 add/sub are exact in float64 and wrap when stored (ToInt32), as torch's int32 wraps.
    case 'add':
      return isInt ? (a, b) => (a + b) | 0 : (a, b) => a + b;
    case 'sub':
      return isInt ? (a, b) => (a - b) | 0 : (a, b) => a - b;
    // int32 products need Math.imul: a * b in float64 loses bits above 2^53.
    case 'mul':
      return isInt ? Math.imul : (a, b) => a * b;
    case 'div':
      return (a, b) => a / b;
    case 'pow':
      return isInt ? intPow : floatPow;
    // torch.maximum/minimum: NaN if either is NaN, else std::max / std::min
    // (so maximum(-0, +0) is -0, the first argument, as in torch).
    case 'maximum':
      return (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : stdMax(a, b));
    case 'minimum':
      return (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : stdMin(a, b));
    // IEEE comparisons: any comparison with NaN is false, except ne.
    case 'eq':
      return (a, b) => Number(a === b);
    case 'ne':
      return (a, b) => Number(a !== b);
    case 'lt':
      return (a, b) => Number(a < b);
    case 'le':
      return (a, b) => Number(a <= b);
    case 'gt':
      return (a, b) => Number(a > b);
    case 'ge':
      return (a, b) => Number(a >= b);
  }
}

/**
 * The fused activation gradient `gradOut * f'(x)` as torch's `*_backward` kernels compute it.
 * @example activationGrad('relu', attrs)(0, 5) // 0 (torch: relu'(0) = 0)
 */
export function activationGrad(fn: Activation, attrs: ActivationAttrs): ScalarFn2 {
  switch (fn) {
    // torch threshold_backward(g, x, 0): x <= 0 ? 0 : g. So relu'(0) = 0 and a NaN x passes g
    // through; an x <= 0 gives an exact 0 even when g is NaN or Inf.
    case 'relu':
      return (x, g) => (x <= 0 ? 0 : g);
    // torch sigmoid_backward(g, y): g * (1 - y) * y with y = sigmoid(x).
    case 'sigmoid':
      return (x, g) => {
        const y = sigmoid(x);
        return g * (1 - y) * y;
      };
    // torch tanh_backward(g, y): g * (1 - y * y) with y = tanh(x).
    case 'tanh':
      return (x, g) => {
        const y = Math.tanh(x);
        return g * (1 - y * y);
      };
    // torch GeluBackward None: g * (cdf + x * pdf), cdf = 0.5 (1 + erf(x / sqrt 2)),
    // pdf = exp(-x^2 / 2) / sqrt(2 pi).
    case 'gelu':
      return (x, g) => {
        const cdf = 0.5 * (1 + erf(x * SQRT1_2));
        const pdf = GELU_PDF_ALPHA * Math.exp(-0.5 * x * x);
        return g * (cdf + x * pdf);
      };
    // torch GeluBackward Tanh: with t = tanh(beta (x + kappa x^3)),
    // g * (0.5 (1 + t) + 0.5 x (1 - t^2) beta (1 + 3 kappa x^2)).
    case 'gelu_tanh':
      return (x, g) => {
        const x2 = x * x;
        const inner = GELU_TANH_BETA * (x + GELU_TANH_KAPPA * x2 * x);
        const t = Math.tanh(inner);
        const left = 0.5 * x;
        const right = 1 + t;
        const leftDerivative = 0.5 * right;
        const rightDerivative = left * (1 - t * t) * GELU_TANH_BETA * (1 + 3 * GELU_TANH_KAPPA * x2);
        return g * (leftDerivative + rightDerivative);
      };
    // torch silu_backward: s = 1 / (1 + exp(-x)); g * s * (1 + x * (1 - s)).
    case 'silu':
      return (x, g) => {
        const s = sigmoid(x);
        return g * s * (1 + x * (1 - s));
      };
    // torch softplus_backward: z = exp(x * beta); (x * beta) > threshold ? g : g * z / (z + 1).
    case 'softplus':
      return (x, g) => {
        const z = Math.exp(x * attrs.beta);
        return x * attrs.beta > attrs.threshold ? g : (g * z) / (z + 1);
      };
    // torch elu_backward (is_result = false, scale = input_scale = 1):
    // x <= 0 ? g * alpha * exp(x) : g. A NaN x passes g through.
    case 'elu':
      return (x, g) => (x <= 0 ? g * attrs.alpha * Math.exp(x) : g);
    // torch leaky_relu_backward: x > 0 ? g : g * negative_slope (so the slope applies at 0).
    case 'leaky_relu':
      return (x, g) => (x > 0 ? g : g * attrs.alpha);
  }
}
