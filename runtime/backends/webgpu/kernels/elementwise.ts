/**
 * @module webgpu/kernels/elementwise — every elementwise primitive of runtime/ops.ts as WGSL:
 * the unary ops (activations included), the binary ops and comparisons, `where`, `copy`
 * (any strided out), `cast`, `unary_backward` and `fill`.
 *
 * One thread per output element. The operands' dims are collapsed first (size-1 dims
 * dropped, dims contiguous in every operand merged, as wasm.ts does), and the flat index is
 * turned into each operand's element offset through the collapsed shape and strides, which
 * travel in the uniform block; the program is specialised only by op, dtype and collapsed
 * rank, so a new shape reuses the compiled pipeline. Attribute scalars (alpha, beta,
 * threshold, clamp bounds, the fill value) are uniform words too.
 *
 * Numerics follow runtime/backends/reference/math.ts formula by formula. WGSL's own
 * transcendentals are used where their error fits test/helpers/tolerance.ts (exp, log,
 * sqrt), and written out where it does not or where WGSL leaves a case undefined: erf
 * (Juffa's single-precision minimax, about 1 ulp), tanh (a Taylor polynomial near 0, where
 * the exp form cancels), expm1 and log1p near 0, pow (Math.pow's special cases; WGSL's
 * pow is undefined for x < 0), maximum/minimum/clamp/comparisons (NaN by bit pattern) and
 * float → int32 casts (saturating, NaN → 0). `copy` and `fill` move raw 32-bit words, so
 * they are exact for every dtype, NaN payloads included.
 */
import type { DType } from '../../../dtype.ts';
import { DTypeError, NotImplementedOpError } from '../../../errors.ts';
import type { Activation, ActivationAttrs, BinaryOp, OpAttrs, UnaryOp } from '../../../ops.ts';
import { BINARY_OPS, UNARY_OPS } from '../../../ops.ts';
import type { GpuView, KernelContext, Launch, Program } from '../program.ts';
import {
  F32_HELPERS,
  FLAT_INDEX,
  MAIN_PARAMS,
  WG,
  cachedProgram,
  collapse,
  dispatch1D,
  f32Bits,
  numel,
  offsetsCode,
  suffix,
  uniformDecl,
  uniformWords,
  uw,
  wgslType,
} from './common.ts';

/** The ops this file computes. */
export type ElementwiseOp = UnaryOp | BinaryOp | 'where' | 'copy' | 'cast' | 'unary_backward' | 'fill';

/**
 * What {@link elementwiseLaunches} needs beyond the views: the op and its attributes.
 * @example { op: 'clamp', attrs: { min: 0, max: 1 } }
 */
export type ElementwiseAttrs = {
  readonly [O in ElementwiseOp]: { readonly op: O; readonly attrs: OpAttrs[O] };
}[ElementwiseOp];

/** A unary op with its attributes. */
type UnarySpec = Extract<ElementwiseAttrs, { readonly op: UnaryOp }>;

function isUnarySpec(spec: ElementwiseAttrs): spec is UnarySpec {
  return (UNARY_OPS as readonly string[]).includes(spec.op);
}

function isBinaryOp(op: string): op is BinaryOp {
  return (BINARY_OPS as readonly string[]).includes(op);
}

/** Uniform word layout: n, three scalar params, the shape, then per operand offset + strides. */
const W_N = 0;
const W_P = 1;
const W_SHAPE = 4;

/** WGSL math shared by the activations (f32). */
const MATH = /* wgsl */ `
// exp and log with NaN passed through on the bits: some drivers' exp(NaN) is +inf
// (SwiftShader), which WGSL permits when it assumes finite math.
fn exp_f32(x: f32) -> f32 { if (is_nan(x)) { return x; } return exp(x); }
fn log_f32(x: f32) -> f32 { if (is_nan(x)) { return x; } return log(x); }
// erf, single precision, after N. Juffa's minimax (max error about 1 ulp).
fn erf_f32(a: f32) -> f32 {
  let t = abs(a);
  let s = a * a;
  var r: f32;
  if (t > 0.927734375) {
    r = fma(-1.72853470e-5, t, 3.83197126e-4);
    let v = fma(-3.88396438e-3, t, 2.42546219e-2);
    r = fma(r, s, v);
    r = fma(r, t, -1.06777877e-1);
    r = fma(r, t, -6.34846687e-1);
    r = fma(r, t, -1.28717512e-1);
    r = fma(r, t, -t);
    r = 1.0 - exp_f32(r);
    r = copysign_f32(r, a);
  } else {
    r = -5.96761703e-4;
    r = fma(r, s, 4.99119423e-3);
    r = fma(r, s, -2.67681349e-2);
    r = fma(r, s, 1.12819925e-1);
    r = fma(r, s, -3.76125336e-1);
    r = fma(r, s, 1.28379166e-1);
    r = fma(r, a, a);
  }
  return r;
}
// tanh: the Taylor series below 0.55 (the exp form cancels there), 1 - 2/(e^2x + 1) above.
fn tanh_f32(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  let ax = abs_f32(x);
  var r: f32;
  if (ax > 9.5) {
    r = 1.0;
  } else if (ax < 0.55) {
    let z = ax * ax;
    var p: f32 = 6404582.0 / 10854718875.0;
    p = fma(p, z, -929569.0 / 638512875.0);
    p = fma(p, z, 21844.0 / 6081075.0);
    p = fma(p, z, -1382.0 / 155925.0);
    p = fma(p, z, 62.0 / 2835.0);
    p = fma(p, z, -17.0 / 315.0);
    p = fma(p, z, 2.0 / 15.0);
    p = fma(p, z, -1.0 / 3.0);
    r = fma(ax * z, p, ax);
  } else {
    r = 1.0 - 2.0 / (exp_f32(2.0 * ax) + 1.0);
  }
  return copysign_f32(r, x);
}
// expm1: the Taylor series below 0.5 in magnitude, exp_f32(x) - 1 above.
fn expm1_f32(x: f32) -> f32 {
  if (abs(x) < 0.5) {
    var p: f32 = 1.0 / 362880.0;
    p = fma(p, x, 1.0 / 40320.0);
    p = fma(p, x, 1.0 / 5040.0);
    p = fma(p, x, 1.0 / 720.0);
    p = fma(p, x, 1.0 / 120.0);
    p = fma(p, x, 1.0 / 24.0);
    p = fma(p, x, 1.0 / 6.0);
    p = fma(p, x, 0.5);
    return fma(x * x, p, x);
  }
  return exp_f32(x) - 1.0;
}
// log1p for y >= 0 (softplus): 2 atanh(y / (2 + y)) as a series below 1, log_f32(1 + y) above.
fn log1p_pos_f32(y: f32) -> f32 {
  if (y < 1.0) {
    let z = y / (2.0 + y);
    let z2 = z * z;
    var p: f32 = 1.0 / 17.0;
    p = fma(p, z2, 1.0 / 15.0);
    p = fma(p, z2, 1.0 / 13.0);
    p = fma(p, z2, 1.0 / 11.0);
    p = fma(p, z2, 1.0 / 9.0);
    p = fma(p, z2, 1.0 / 7.0);
    p = fma(p, z2, 1.0 / 5.0);
    p = fma(p, z2, 1.0 / 3.0);
    return 2.0 * fma(z * z2, p, z);
  }
  return log_f32(1.0 + y);
}
fn sigmoid_f32(x: f32) -> f32 { return 1.0 / (1.0 + exp_f32(-x)); }
fn is_odd_int(y: f32) -> bool {
  let ay = abs(y);
  if (ay >= 16777216.0 || is_inf(y)) { return false; }
  let t = trunc(ay);
  return t == ay && (u32(t) & 1u) == 1u;
}
fn is_int_f32(y: f32) -> bool { return is_inf(y) || trunc(y) == y; }
// Math.pow (ECMAScript Number::exponentiate), case by case; WGSL's pow is exp2(y log2 x).
fn pow_f32(x: f32, y: f32) -> f32 {
  if (is_nan(y)) { return nan_f32(); }
  if (y == 0.0) { return 1.0; }
  if (is_nan(x)) { return nan_f32(); }
  let ax = abs_f32(x);
  if (is_inf(y)) {
    if (ax == 1.0) { return nan_f32(); }
    if ((ax > 1.0) == (y > 0.0)) { return inf_f32(); }
    return 0.0;
  }
  if (is_inf(x)) {
    let odd = is_odd_int(y);
    if (x > 0.0) { return select(0.0, inf_f32(), y > 0.0); }
    if (y > 0.0) { return select(inf_f32(), -inf_f32(), odd); }
    return select(0.0, neg_f32(0.0), odd);
  }
  if (ax == 0.0) {
    let odd = is_odd_int(y);
    if (y > 0.0) { return select(0.0, x, odd); }
    return select(inf_f32(), copysign_f32(inf_f32(), x), odd);
  }
  if (x < 0.0 && !is_int_f32(y)) { return nan_f32(); }
  var r: f32;
  if (y == 1.0) { r = ax; }
  else if (y == 2.0) { r = ax * ax; }
  else if (y == -1.0) { r = 1.0 / ax; }
  else if (y == 0.5) { r = sqrt(ax); }
  else { r = exp2(y * log2(ax)); }
  if (x < 0.0 && is_odd_int(y)) { return -r; }
  return r;
}
// torch's float -> Half: round to nearest even, beyond 65504 (from 65520 up) to infinity,
// subnormal halves as multiples of 2^-24; by integer arithmetic on the bits.
fn round_f16_f32(x: f32) -> f32 {
  let b = bitcast<u32>(x);
  let sgn = b & 0x80000000u;
  let a = b & 0x7fffffffu;
  if (a >= 0x7f800000u) { return x; }
  if (a >= 0x477ff000u) { return bitcast<f32>(sgn | 0x7f800000u); }
  if (a >= 0x38800000u) {
    let r = a + 0xfffu + ((a >> 13u) & 1u);
    return bitcast<f32>(sgn | (r & 0xffffe000u));
  }
  let e = a >> 23u;
  let s = 126u - e;
  if (s > 25u) { return bitcast<f32>(sgn); }
  let m = (a & 0x7fffffu) | 0x800000u;
  var q = m >> s;
  let rem = m & ((1u << s) - 1u);
  let half = 1u << (s - 1u);
  if (rem > half || (rem == half && (q & 1u) == 1u)) { q = q + 1u; }
  return copysign_f32(f32(q) * bitcast<f32>(0x33800000u), x);
}
// torch's round_to_nearest_even to bfloat16, kept in f32; overflow gives infinity.
fn round_bf16_f32(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  let b = bitcast<u32>(x);
  let r = b + 0x7fffu + ((b >> 16u) & 1u);
  return bitcast<f32>(r & 0xffff0000u);
}
fn pow_i32(base: i32, ex: i32) -> i32 {
  if (ex < 0) {
    if (base == 1) { return 1; }
    if (base == -1) { return select(-1, 1, (ex & 1) == 0); }
    return 0;
  }
  var r: i32 = 1;
  var b: i32 = base;
  var e: u32 = u32(ex);
  loop {
    if (e == 0u) { break; }
    if ((e & 1u) == 1u) { r = r * b; }
    b = b * b;
    e = e >> 1u;
  }
  return r;
}
`;

/** sqrt(2 / pi), torch's gelu tanh kBeta. */
const GELU_TANH_BETA = Math.SQRT2 * (2 / Math.sqrt(Math.PI)) * 0.5;
/** 1 / sqrt(2 pi). */
const GELU_PDF_ALPHA = (2 / Math.sqrt(Math.PI)) * Math.SQRT1_2 * 0.5;

/** A WGSL float literal that round-trips (f32 rounding happens in the compiler). */
function lit(v: number): string {
  const s = String(v);
  return /[.eE]/.test(s) ? s : `${s}.0`;
}

const P0 = `bitcast<f32>(${uw(W_P)})`;
const P1 = `bitcast<f32>(${uw(W_P + 1)})`;
const P2 = `bitcast<f32>(${uw(W_P + 2)})`;
const P0I = `bitcast<i32>(${uw(W_P)})`;
const P1I = `bitcast<i32>(${uw(W_P + 1)})`;

/** The body of `fn f(a, b, c) -> OT` of an op: the statements ending in `return`. */
interface OpCode {
  readonly body: string;
  /** The uniform params p0..p2 as 32-bit words. */
  readonly params: readonly number[];
}

function unaryCode(spec: UnarySpec, dtype: DType): OpCode {
  const none: number[] = [];
  const op = spec.op;
  if (dtype === 'int32') {
    switch (spec.op) {
      case 'neg':
        return { body: 'return -a;', params: none };
      case 'abs':
        return { body: 'return abs(a);', params: none };
      case 'sign':
        return { body: 'return select(0, 1, a > 0) - select(0, 1, a < 0);', params: none };
      case 'clamp': {
        const { min, max } = spec.attrs;
        // As wasm.ts: a fractional bound rounds inward, then saturates to the int32 range.
        const lo = min === null ? -2147483648 : clampI32(Math.ceil(min));
        const hi = max === null ? 2147483647 : clampI32(Math.floor(max));
        return {
          body: `var r = a; let lo = ${P0I}; let hi = ${P1I}; if (r < lo) { r = lo; } if (hi < r) { r = hi; } return r;`,
          params: [lo, hi],
        };
      }
      default:
        break;
    }
  } else if (dtype === 'bool') {
    if (op === 'logical_not') return { body: 'return select(1u, 0u, a != 0u);', params: none };
  } else if (dtype === 'float32') {
    switch (spec.op) {
      case 'neg':
        return { body: 'return neg_f32(a);', params: none };
      case 'abs':
        return { body: 'return abs_f32(a);', params: none };
      // torch: (0 < x) - (x < 0), so sign(NaN) = 0.
      case 'sign':
        return {
          body: 'if (is_nan(a)) { return 0.0; } return select(0.0, 1.0, a > 0.0) - select(0.0, 1.0, a < 0.0);',
          params: none,
        };
      case 'exp':
        return { body: 'return exp_f32(a);', params: none };
      case 'log':
        return {
          body: 'if (a < 0.0) { return nan_f32(); } if (a == 0.0) { return -inf_f32(); } return log_f32(a);',
          params: none,
        };
      case 'sqrt':
        return { body: 'if (a < 0.0) { return nan_f32(); } return sqrt(a);', params: none };
      // torch: isnan(x) ? x : std::max(x, 0).
      case 'relu':
        return { body: 'if (is_nan(a)) { return a; } return select(a, 0.0, a < 0.0);', params: none };
      case 'sigmoid':
        return { body: 'return sigmoid_f32(a);', params: none };
      case 'tanh':
        return { body: 'return tanh_f32(a);', params: none };
      case 'gelu':
        return { body: `return a * 0.5 * (1.0 + erf_f32(a * ${lit(Math.SQRT1_2)}));`, params: none };
      case 'gelu_tanh':
        return {
          body: `return 0.5 * a * (1.0 + tanh_f32(${lit(GELU_TANH_BETA)} * (a + 0.044715 * a * a * a)));`,
          params: none,
        };
      case 'silu':
        return { body: 'return a / (1.0 + exp_f32(-a));', params: none };
      case 'softplus': {
        const { beta, threshold } = spec.attrs;
        return {
          body: `let beta = ${P0}; let th = ${P1}; if (is_nan(a)) { return a; } if (a * beta > th) { return a; } return log1p_pos_f32(exp_f32(a * beta)) / beta;`,
          params: [f32Bits(beta), f32Bits(threshold)],
        };
      }
      case 'elu': {
        const { alpha } = spec.attrs;
        return { body: `if (a <= 0.0) { return expm1_f32(a) * ${P0}; } return a;`, params: [f32Bits(alpha)] };
      }
      case 'leaky_relu': {
        const { alpha } = spec.attrs;
        return { body: `if (a > 0.0) { return a; } return a * ${P0};`, params: [f32Bits(alpha)] };
      }
      case 'clamp': {
        const { min, max } = spec.attrs;
        // std::max(x, min) then std::min(., max); a null side is ±inf, which leaves x as is.
        return {
          body: `if (is_nan(a)) { return a; } var r = a; let lo = ${P0}; let hi = ${P1}; if (r < lo) { r = lo; } if (hi < r) { r = hi; } return r;`,
          params: [f32Bits(min ?? -Infinity), f32Bits(max ?? Infinity)],
        };
      }
      case 'round_f16':
        return { body: 'return round_f16_f32(a);', params: none };
      case 'round_bf16':
        return { body: 'return round_bf16_f32(a);', params: none };
      default:
        break;
    }
  }
  throw new NotImplementedOpError(
    `webgpu: op '${op}' is not implemented for ${dtype}; expected a dtype of opDTypes('${op}'), got ${dtype}`,
  );
}

function binaryCode(op: BinaryOp, dtype: DType): OpCode {
  const none: number[] = [];
  const ok = (e: string): OpCode => ({ body: `return ${e};`, params: none });
  if (dtype === 'float32') {
    // Comparisons with a NaN are false (ne true), tested on the bits.
    const ordered = '!is_nan(a) && !is_nan(b)';
    switch (op) {
      case 'add':
        return ok('a + b');
      case 'sub':
        return ok('a - b');
      case 'mul':
        return ok('a * b');
      case 'div':
        return ok('a / b');
      case 'pow':
        return ok('pow_f32(a, b)');
      // torch.maximum/minimum: NaN if either is NaN, else std::max / std::min.
      case 'maximum':
        return { body: 'if (is_nan(a) || is_nan(b)) { return nan_f32(); } return select(a, b, a < b);', params: none };
      case 'minimum':
        return { body: 'if (is_nan(a) || is_nan(b)) { return nan_f32(); } return select(a, b, b < a);', params: none };
      case 'eq':
        return ok(`select(0u, 1u, ${ordered} && a == b)`);
      case 'ne':
        return ok(`select(1u, 0u, ${ordered} && a == b)`);
      case 'lt':
        return ok(`select(0u, 1u, ${ordered} && a < b)`);
      case 'le':
        return ok(`select(0u, 1u, ${ordered} && a <= b)`);
      case 'gt':
        return ok(`select(0u, 1u, ${ordered} && a > b)`);
      case 'ge':
        return ok(`select(0u, 1u, ${ordered} && a >= b)`);
    }
  }
  if (dtype === 'int32') {
    switch (op) {
      // WGSL integer add, sub and mul wrap modulo 2^32, as torch's int32.
      case 'add':
        return ok('a + b');
      case 'sub':
        return ok('a - b');
      case 'mul':
        return ok('a * b');
      case 'pow':
        return ok('pow_i32(a, b)');
      case 'maximum':
        return ok('select(a, b, a < b)');
      case 'minimum':
        return ok('select(a, b, b < a)');
      case 'eq':
        return ok('select(0u, 1u, a == b)');
      case 'ne':
        return ok('select(0u, 1u, a != b)');
      case 'lt':
        return ok('select(0u, 1u, a < b)');
      case 'le':
        return ok('select(0u, 1u, a <= b)');
      case 'gt':
        return ok('select(0u, 1u, a > b)');
      case 'ge':
        return ok('select(0u, 1u, a >= b)');
      default:
        break;
    }
  }
  throw new NotImplementedOpError(
    `webgpu: op '${op}' is not implemented for ${dtype}; expected a dtype of opDTypes('${op}'), got ${dtype}`,
  );
}

/** gradOut * f'(x), with a = x and b = gradOut, as backends/reference/math.ts's activationGrad. */
function backwardCode(fn: Activation, attrs: ActivationAttrs): OpCode {
  const params = [f32Bits(attrs.alpha), f32Bits(attrs.beta), f32Bits(attrs.threshold)];
  const alpha = P0;
  const beta = P1;
  const th = P2;
  switch (fn) {
    case 'relu':
      return { body: 'if (a <= 0.0) { return 0.0; } return b;', params };
    case 'sigmoid':
      return { body: 'let y = sigmoid_f32(a); return b * (1.0 - y) * y;', params };
    case 'tanh':
      return { body: 'let y = tanh_f32(a); return b * (1.0 - y * y);', params };
    case 'gelu':
      return {
        body: `let cdf = 0.5 * (1.0 + erf_f32(a * ${lit(Math.SQRT1_2)})); let pdf = ${lit(GELU_PDF_ALPHA)} * exp_f32(-0.5 * a * a); return b * (cdf + a * pdf);`,
        params,
      };
    case 'gelu_tanh':
      return {
        body: `let x2 = a * a; let t = tanh_f32(${lit(GELU_TANH_BETA)} * (a + 0.044715 * x2 * a));
  let left = 0.5 * a; let right = 1.0 + t;
  let ld = 0.5 * right; let rd = left * (1.0 - t * t) * ${lit(GELU_TANH_BETA)} * (1.0 + 3.0 * 0.044715 * x2);
  return b * (ld + rd);`,
        params,
      };
    case 'silu':
      return { body: 'let s = sigmoid_f32(a); return b * s * (1.0 + a * (1.0 - s));', params };
    case 'softplus':
      return {
        body: `let z = exp_f32(a * ${beta}); if (a * ${beta} > ${th}) { return b; } return (b * z) / (z + 1.0);`,
        params,
      };
    case 'elu':
      return { body: `if (a <= 0.0) { return b * ${alpha} * exp_f32(a); } return b;`, params };
    case 'leaky_relu':
      return { body: `if (a > 0.0) { return b; } return b * ${alpha};`, params };
  }
}

/** out ← x converted, as the reference's cast (float → int32 saturates, NaN → 0; → bool is != 0). */
function castCode(from: DType, to: DType): OpCode {
  const none: number[] = [];
  const key = `${from}>${to}`;
  switch (key) {
    case 'float32>int32':
      return {
        body: 'if (is_nan(a)) { return 0; } if (a >= 2147483648.0) { return 2147483647; } if (a <= -2147483648.0) { return -2147483647 - 1; } return i32(a);',
        params: none,
      };
    case 'float32>bool':
      return { body: 'return select(0u, 1u, (bitcast<u32>(a) & 0x7fffffffu) != 0u);', params: none };
    case 'int32>float32':
      return { body: 'return f32(a);', params: none };
    case 'int32>bool':
      return { body: 'return select(0u, 1u, a != 0);', params: none };
    case 'bool>float32':
      return { body: 'return select(0.0, 1.0, a != 0u);', params: none };
    case 'bool>int32':
      return { body: 'return select(0, 1, a != 0u);', params: none };
    default:
      throw new DTypeError(`cast: unsupported cast; expected float32, int32 or bool, got ${from} -> ${to}`);
  }
}

const programs = new Map<string, Program>();

/**
 * The launches of one elementwise primitive: `inputs` already have out's shape (any strides,
 * stride 0 for broadcast); `copy`'s out may be any strided view. The backend has checked
 * dtypes and shapes.
 * @example
 * elementwiseLaunches(ctx, out, [x], { op: 'relu', attrs: {} }) // [one Launch]
 */
export function elementwiseLaunches(
  ctx: KernelContext,
  out: GpuView,
  inputs: readonly GpuView[],
  spec: ElementwiseAttrs,
): Launch[] {
  const op = spec.op;
  const n = numel(out.shape);
  if (n === 0) return [];
  const c = collapse(out.shape, [out.strides, ...inputs.map((v) => v.strides)]);
  if (c === null) return [];
  const rank = c.shape.length;
  const nops = inputs.length + 1;
  let code: OpCode;
  let keyBase: string;
  // Raw words for copy and fill: exact for every dtype.
  const raw = op === 'copy' || op === 'fill';
  if (spec.op === 'copy') {
    code = { body: 'return a;', params: [] };
    keyBase = 'copy_x32';
  } else if (spec.op === 'fill') {
    const value = spec.attrs.value;
    const word = out.dtype === 'float32' ? f32Bits(value) : out.dtype === 'int32' ? value | 0 : value !== 0 ? 1 : 0;
    code = { body: `return ${uw(W_P)};`, params: [word] };
    keyBase = 'fill_x32';
  } else if (spec.op === 'cast') {
    const from = (inputs[0] as GpuView).dtype;
    code = from === out.dtype ? { body: 'return a;', params: [] } : castCode(from, out.dtype);
    keyBase = `cast_${suffix(from)}_${suffix(out.dtype)}`;
  } else if (spec.op === 'unary_backward') {
    const a = spec.attrs;
    if (out.dtype !== 'float32')
      throw new NotImplementedOpError(
        `webgpu: op 'unary_backward' is not implemented for ${out.dtype}; expected float32, got ${out.dtype}`,
      );
    code = backwardCode(a.fn, a);
    keyBase = `unary_backward_${a.fn}_f32`;
  } else if (spec.op === 'where') {
    code = { body: 'return select(c, b, a != 0u);', params: [] };
    keyBase = `where_${suffix(out.dtype)}`;
  } else if (isUnarySpec(spec)) {
    const dt = (inputs[0] as GpuView).dtype;
    code = unaryCode(spec, dt);
    // Every float unary op but sign maps NaN to NaN; say so up front rather than trust each
    // driver's transcendentals with it (neg and abs are bit operations already).
    if (dt === 'float32' && op !== 'sign' && op !== 'neg' && op !== 'abs') {
      code = { body: `if (is_nan(a)) { return a; }\n  ${code.body}`, params: code.params };
    }
    keyBase = `${op}_${suffix(dt)}`;
  } else if (isBinaryOp(op)) {
    const dt = (inputs[0] as GpuView).dtype;
    code = binaryCode(op, dt);
    keyBase = `${op}_${suffix(dt)}`;
  } else {
    throw new NotImplementedOpError(
      `webgpu: op '${op}' is not elementwise; expected one of the unary, binary, where, copy, cast, unary_backward or fill ops, got '${op}'`,
    );
  }
  const key = `${keyBase}_r${rank}`;
  const operandAt = Array.from({ length: nops }, (_, k) => W_SHAPE + rank + k * (rank + 1));
  const words = W_SHAPE + rank + nops * (rank + 1);
  const elemType = (v: GpuView): string => (raw ? 'u32' : wgslType(v.dtype));
  const outType = elemType(out);
  const inTypes = inputs.map(elemType);
  const source = (): string => {
    const names = ['a', 'b', 'c'];
    const bindings = [`@group(0) @binding(1) var<storage, read_write> Y: array<${outType}>;`];
    inputs.forEach((_, k) =>
      bindings.push(`@group(0) @binding(${k + 2}) var<storage, read> X${k}: array<${inTypes[k] ?? 'u32'}>;`),
    );
    const params = inTypes.map((t, k) => `${names[k] ?? 'z'}: ${t}`).join(', ');
    const args = inTypes.map((_, k) => `X${k}[o${k + 1}]`).join(', ');
    return `${uniformDecl(words)}
${bindings.join('\n')}
${F32_HELPERS}
${raw ? '' : MATH}
fn f(${params}) -> ${outType} {
  ${code.body}
}
@compute @workgroup_size(${WG})
fn main(${MAIN_PARAMS}) {
  let i = ${FLAT_INDEX};
  if (i >= ${uw(W_N)}) { return; }
  ${offsetsCode(rank, W_SHAPE, operandAt)}
  Y[o0] = f(${args});
}
`;
  };
  const w: number[] = new Array<number>(words).fill(0);
  w[W_N] = n;
  code.params.forEach((p, k) => {
    w[W_P + k] = p;
  });
  c.shape.forEach((s, d) => {
    w[W_SHAPE + d] = s;
  });
  const views = [out, ...inputs];
  views.forEach((v, k) => {
    const at = operandAt[k] ?? 0;
    w[at] = v.offset;
    (c.strides[k] ?? []).forEach((s, d) => {
      w[at + 1 + d] = s | 0;
    });
  });
  return [
    {
      program: cachedProgram(programs, key, source),
      buffers: [{ buffer: out.buffer, readOnly: false }, ...inputs.map((v) => ({ buffer: v.buffer, readOnly: true }))],
      uniforms: uniformWords(w),
      workgroups: dispatch1D(n, ctx.limits.maxComputeWorkgroupsPerDimension),
    },
  ];
}

function clampI32(v: number): number {
  return Math.max(-2147483648, Math.min(2147483647, v));
}
