/**
 * @module elementwise — the strided driver shared by unary, binary, where, cast,
 * copy and activation-backward kernels, and the lane-wise definition of each op.
 *
 * `ew` walks the descriptor (see common.ts). For each inner row it runs a clean
 * SIMD loop when every operand is contiguous, a SIMD loop with hoisted splats
 * when some input has stride 0, and a scalar tail that applies the same lane
 * function to splatted scalars, so tails and strided elements round exactly as
 * the SIMD lanes do.
 */
import {
  dShape, dStride, dPtr, odoStart, odoNext, load4, load1, store4, store1,
  fs, is, sel, bit, madd, vexp, vexpHalfSq, vexpm1, vlog, vlog1p, vtanh, vsigmoid, verfc,
} from './common';

// Opcodes (compile-time constants; each export inlines `ew` with one of them).
export const NEG: i32 = 1, ABS: i32 = 2, SIGN: i32 = 3, EXP: i32 = 4, LOG: i32 = 5, SQRT: i32 = 6;
export const RELU: i32 = 7, SIGMOID: i32 = 8, TANH: i32 = 9, GELU: i32 = 10, GELU_TANH: i32 = 11;
export const SILU: i32 = 12, SOFTPLUS: i32 = 13, ELU: i32 = 14, LEAKY: i32 = 15, CLAMP: i32 = 16;
export const INEG: i32 = 17, IABS: i32 = 18, ISIGN: i32 = 19, ICLAMP: i32 = 20, NOT: i32 = 21;
export const ROUND_F16: i32 = 22, ROUND_BF16: i32 = 23;
export const ADD: i32 = 30, SUB: i32 = 31, MUL: i32 = 32, DIV: i32 = 33, POW: i32 = 34, MAX: i32 = 35, MIN: i32 = 36;
export const EQ: i32 = 37, NE: i32 = 38, LT: i32 = 39, LE: i32 = 40, GT: i32 = 41, GE: i32 = 42;
export const IADD: i32 = 50, ISUB: i32 = 51, IMUL: i32 = 52, IPOW: i32 = 53, IMAX: i32 = 54, IMIN: i32 = 55;
export const IEQ: i32 = 56, INE: i32 = 57, ILT: i32 = 58, ILE: i32 = 59, IGT: i32 = 60, IGE: i32 = 61;
export const WHERE: i32 = 70;
export const F2I: i32 = 80, I2F: i32 = 81, F2B: i32 = 82, I2B: i32 = 83, B2F: i32 = 84, B2I: i32 = 85, COPY: i32 = 86;
export const BW_RELU: i32 = 90, BW_SIGMOID: i32 = 91, BW_TANH: i32 = 92, BW_GELU: i32 = 93, BW_GELU_TANH: i32 = 94;
export const BW_SILU: i32 = 95, BW_SOFTPLUS: i32 = 96, BW_ELU: i32 = 97, BW_LEAKY: i32 = 98;

const SQRT1_2: f32 = 0.70710678118654752;
const INV_SQRT_2PI: f32 = 0.39894228040143268;
const SQRT_2_PI: f32 = 0.79788456080286536;

/** JS Math.pow semantics in f64, rounded to f32 (|x| == 1 with a non-finite y is NaN in JS). */
function powf(x: f32, y: f32): f32 {
  const xd = <f64>x, yd = <f64>y;
  if (Math.abs(xd) == 1.0 && !isFinite(yd)) return NaN;
  return <f32>Math.pow(xd, yd);
}

/** Exact int32 power with wrap-around; a negative exponent gives 0 except for base +-1. */
function powi(x: i32, y: i32): i32 {
  if (y < 0) {
    if (x == 1) return 1;
    if (x == -1) return (y & 1) != 0 ? -1 : 1;
    return 0;
  }
  let r: i32 = 1, b = x, e = y;
  while (e != 0) {
    if ((e & 1) != 0) r *= b;
    b *= b;
    e >>>= 1;
  }
  return r;
}

function vpowf(a: v128, b: v128): v128 {
  let r = f32x4.splat(powf(f32x4.extract_lane(a, 0), f32x4.extract_lane(b, 0)));
  r = f32x4.replace_lane(r, 1, powf(f32x4.extract_lane(a, 1), f32x4.extract_lane(b, 1)));
  r = f32x4.replace_lane(r, 2, powf(f32x4.extract_lane(a, 2), f32x4.extract_lane(b, 2)));
  return f32x4.replace_lane(r, 3, powf(f32x4.extract_lane(a, 3), f32x4.extract_lane(b, 3)));
}

function vpowi(a: v128, b: v128): v128 {
  let r = i32x4.splat(powi(i32x4.extract_lane(a, 0), i32x4.extract_lane(b, 0)));
  r = i32x4.replace_lane(r, 1, powi(i32x4.extract_lane(a, 1), i32x4.extract_lane(b, 1)));
  r = i32x4.replace_lane(r, 2, powi(i32x4.extract_lane(a, 2), i32x4.extract_lane(b, 2)));
  return i32x4.replace_lane(r, 3, powi(i32x4.extract_lane(a, 3), i32x4.extract_lane(b, 3)));
}

/** Φ(x) = erfc(-x / sqrt 2) / 2, the standard normal CDF. */
function vphi(x: v128): v128 {
  return f32x4.mul(fs(0.5), verfc(f32x4.mul(x, fs(-SQRT1_2)), x, 0.5));
}

/**
 * gelu_tanh(x) = x * sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3). In the negative tail
 * the result is ~x e^(2u), whose relative error is |2u| times u's, so 2u is formed in
 * f64 and split into f32 hi + lo, and e^(hi + lo) = e^hi (1 + lo).
 */
function vgeluTanh(x: v128): v128 {
  const xl = f64x2.promote_low_f32x4(x);
  const xh = f64x2.promote_low_f32x4(v128.shuffle<f32>(x, x, 2, 3, 0, 1));
  const c = f64x2.splat(0.044715), k2 = f64x2.splat(2 * 0.79788456080286536);
  const zl = f64x2.mul(k2, f64x2.add(xl, f64x2.mul(c, f64x2.mul(xl, f64x2.mul(xl, xl)))));
  const zh = f64x2.mul(k2, f64x2.add(xh, f64x2.mul(c, f64x2.mul(xh, f64x2.mul(xh, xh)))));
  const hl = f32x4.demote_f64x2_zero(zl), hh = f32x4.demote_f64x2_zero(zh);
  const zhi = v128.shuffle<f32>(hl, hh, 0, 1, 4, 5);
  const ll = f32x4.demote_f64x2_zero(f64x2.sub(zl, f64x2.promote_low_f32x4(hl)));
  const lh = f32x4.demote_f64x2_zero(f64x2.sub(zh, f64x2.promote_low_f32x4(hh)));
  const zlo = v128.shuffle<f32>(ll, lh, 0, 1, 4, 5);
  // e = e^(-|z|): for z < 0 that is e^(zhi + zlo), else e^(-zhi - zlo).
  const neg = f32x4.lt(zhi, fs(0));
  const hi = sel(neg, zhi, f32x4.neg(zhi));
  // An overflowed or infinite z leaves lo NaN or infinite: drop it (e^hi alone is exact there).
  const lo = sel(f32x4.lt(f32x4.abs(zlo), fs(1)), sel(neg, zlo, f32x4.neg(zlo)), fs(0));
  const e = f32x4.mul(vexp(hi), f32x4.add(fs(1), lo));
  const r = f32x4.div(fs(1), f32x4.add(fs(1), e));
  return f32x4.mul(x, sel(neg, f32x4.mul(e, r), r));
}

/** sqrt(2/pi) * (x + 0.044715 x^3), the argument of gelu's tanh approximation. */
// @ts-ignore: decorator
@inline function geluInner(x: v128): v128 {
  return f32x4.mul(fs(SQRT_2_PI), madd(f32x4.mul(f32x4.mul(x, x), x), fs(0.044715), x));
}

/**
 * Round to the nearest float16 value, ties to even, kept as f32 (torch's `.half().float()`).
 * Normal halves keep 10 of the 23 mantissa bits: add 0xFFF plus the kept lsb, clear 13 bits
 * (the carry moves into the exponent). Below 2^-14 the step is 2^-24 everywhere, and an f32
 * add to 0.5 (whose ulp is 2^-24) rounds to it exactly. Past 65504 is infinity; NaN stays.
 */
function vroundF16(a: v128): v128 {
  const ax = f32x4.abs(a);
  const lsb = v128.and(i32x4.shr_u(ax, 13), is(1));
  const normal = v128.and(i32x4.add(i32x4.add(ax, is(0xFFF)), lsb), is(<i32>0xFFFFE000));
  const sub = f32x4.sub(f32x4.add(ax, fs(0.5)), fs(0.5));
  let r = sel(f32x4.lt(ax, fs(6.103515625e-5)), sub, normal);
  r = sel(f32x4.gt(r, fs(65504)), fs(Infinity), r);
  r = v128.or(r, v128.and(a, is(<i32>0x80000000)));
  return sel(f32x4.ne(a, a), a, r);
}

/**
 * Round to the nearest bfloat16 value, ties to even, kept as f32: torch's
 * round_to_nearest_even, `(bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000`; NaN stays.
 */
function vroundBF16(a: v128): v128 {
  const lsb = v128.and(i32x4.shr_u(a, 16), is(1));
  const r = v128.and(i32x4.add(i32x4.add(a, is(0x7FFF)), lsb), is(<i32>0xFFFF0000));
  return sel(f32x4.ne(a, a), a, r);
}

/** The lane-wise value of op `op` on inputs a, b, c with scalar parameters p0..p2. */
// @ts-ignore: decorator
@inline function lanes(op: i32, a: v128, b: v128, c: v128, p0: f64, p1: f64, p2: f64): v128 {
  const zero = f32x4.splat(0);
  const pos = f32x4.gt(a, zero);
  switch (op) {
    case NEG: return f32x4.neg(a);
    case ABS: return f32x4.abs(a);
    // torch: (0 < x) - (x < 0), so sign(NaN) = 0 and sign(-0) = +0.
    case SIGN: return f32x4.sub(f32x4.convert_i32x4_s(bit(pos)), f32x4.convert_i32x4_s(bit(f32x4.lt(a, zero))));
    case EXP: return vexp(a);
    case LOG: return vlog(a);
    case SQRT: return f32x4.sqrt(a);
    case RELU: return f32x4.max(a, zero);
    case SIGMOID: return vsigmoid(a);
    case TANH: return vtanh(a);
    case GELU: return f32x4.mul(a, vphi(a));
    case GELU_TANH: return vgeluTanh(a);
    case SILU: return f32x4.mul(a, vsigmoid(a));
    case SOFTPLUS: {
      // torch: x if beta*x > threshold else log1p(exp(beta*x)) / beta
      const bx = f32x4.mul(a, fs(<f32>p0));
      const sp = f32x4.div(vlog1p(vexp(bx)), fs(<f32>p0));
      return sel(f32x4.gt(bx, fs(<f32>p1)), a, sp);
    }
    case ELU: return sel(pos, a, f32x4.mul(fs(<f32>p0), vexpm1(a)));
    case LEAKY: return sel(pos, a, f32x4.mul(fs(<f32>p0), a));
    case CLAMP: return f32x4.min(f32x4.max(a, fs(<f32>p0)), fs(<f32>p1));
    case INEG: return i32x4.neg(a);
    case IABS: return i32x4.abs(a);
    case ISIGN: return i32x4.sub(bit(i32x4.gt_s(a, is(0))), bit(i32x4.lt_s(a, is(0))));
    case ICLAMP: return i32x4.min_s(i32x4.max_s(a, is(<i32>p0)), is(<i32>p1));
    case NOT: return bit(i32x4.eq(a, is(0)));
    case ROUND_F16: return vroundF16(a);
    case ROUND_BF16: return vroundBF16(a);
    case ADD: return f32x4.add(a, b);
    case SUB: return f32x4.sub(a, b);
    case MUL: return f32x4.mul(a, b);
    case DIV: return f32x4.div(a, b);
    case POW: return vpowf(a, b);
    case MAX: return f32x4.max(a, b);
    case MIN: return f32x4.min(a, b);
    case EQ: return bit(f32x4.eq(a, b));
    case NE: return bit(f32x4.ne(a, b));
    case LT: return bit(f32x4.lt(a, b));
    case LE: return bit(f32x4.le(a, b));
    case GT: return bit(f32x4.gt(a, b));
    case GE: return bit(f32x4.ge(a, b));
    case IADD: return i32x4.add(a, b);
    case ISUB: return i32x4.sub(a, b);
    case IMUL: return i32x4.mul(a, b);
    case IPOW: return vpowi(a, b);
    case IMAX: return i32x4.max_s(a, b);
    case IMIN: return i32x4.min_s(a, b);
    case IEQ: return bit(i32x4.eq(a, b));
    case INE: return bit(i32x4.ne(a, b));
    case ILT: return bit(i32x4.lt_s(a, b));
    case ILE: return bit(i32x4.le_s(a, b));
    case IGT: return bit(i32x4.gt_s(a, b));
    case IGE: return bit(i32x4.ge_s(a, b));
    case WHERE: return sel(i32x4.ne(a, is(0)), b, c);
    // Truncation toward zero, saturating at the int32 range; NaN gives 0 (the reference's rule).
    case F2I: return i32x4.trunc_sat_f32x4_s(a);
    case I2F: return f32x4.convert_i32x4_s(a);
    case F2B: return bit(f32x4.ne(a, zero));
    case I2B: return bit(i32x4.ne(a, is(0)));
    case B2F: return f32x4.convert_i32x4_s(bit(i32x4.ne(a, is(0))));
    case B2I: return bit(i32x4.ne(a, is(0)));
    case COPY: return a;
    // activation backward: a = x, b = gradOut
    // torch threshold_backward: x <= 0 ? 0 : g (a NaN x passes g through).
    case BW_RELU: return sel(f32x4.le(a, zero), zero, b);
    case BW_SIGMOID: {
      const s = vsigmoid(a);
      return f32x4.mul(b, f32x4.mul(s, f32x4.sub(fs(1), s)));
    }
    case BW_TANH: {
      const t = vtanh(a);
      return f32x4.mul(b, f32x4.sub(fs(1), f32x4.mul(t, t)));
    }
    case BW_GELU: {
      // d/dx x*Φ(x) = Φ(x) + x φ(x)
      const pdf = f32x4.mul(fs(INV_SQRT_2PI), vexpHalfSq(a));
      return f32x4.mul(b, madd(a, pdf, vphi(a)));
    }
    case BW_GELU_TANH: {
      // torch's GeluBackward (approximate='tanh'):
      // 0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2)
      const t = vtanh(geluInner(a));
      const left = f32x4.mul(fs(0.5), f32x4.add(fs(1), t));
      const inner = f32x4.mul(fs(SQRT_2_PI), madd(f32x4.mul(a, a), fs(3 * 0.044715), fs(1)));
      const right = f32x4.mul(f32x4.mul(f32x4.mul(fs(0.5), a), f32x4.sub(fs(1), f32x4.mul(t, t))), inner);
      return f32x4.mul(b, f32x4.add(left, right));
    }
    case BW_SILU: {
      const s = vsigmoid(a);
      return f32x4.mul(b, f32x4.mul(s, madd(a, f32x4.sub(fs(1), s), fs(1))));
    }
    case BW_SOFTPLUS: {
      const bx = f32x4.mul(a, fs(<f32>p0));
      return sel(f32x4.gt(bx, fs(<f32>p1)), b, f32x4.mul(b, vsigmoid(bx)));
    }
    // torch elu_backward: x <= 0 ? g * alpha * exp(x) : g (a NaN x passes g through).
    case BW_ELU: return sel(f32x4.le(a, zero), f32x4.mul(b, f32x4.mul(fs(<f32>p0), vexp(a))), b);
    case BW_LEAKY: return sel(pos, b, f32x4.mul(b, fs(<f32>p0)));
    default: return a;
  }
}

/**
 * Runs op `op` over the descriptor at `d` with `nin` inputs. `so`, `s1..s3` are the
 * element sizes in bytes (4, or 1 for bool) of out and the inputs.
 */
// @ts-ignore: decorator
@inline export function ew(op: i32, nin: i32, so: i32, s1: i32, s2: i32, s3: i32, d: usize, p0: f64, p1: f64, p2: f64): void {
  const last = load<i32>(d) - 1;
  const n = dShape(d, last);
  const t0 = dStride(d, 0, last);
  const t1 = nin >= 1 ? dStride(d, 1, last) : 0;
  const t2 = nin >= 2 ? dStride(d, 2, last) : 0;
  const t3 = nin >= 3 ? dStride(d, 3, last) : 0;
  const outer = odoStart(d);
  const vecOk = t0 == so && (nin < 1 || t1 == s1 || t1 == 0) && (nin < 2 || t2 == s2 || t2 == 0) && (nin < 3 || t3 == s3 || t3 == 0);
  const dense = t0 == so && (nin < 1 || t1 == s1) && (nin < 2 || t2 == s2) && (nin < 3 || t3 == s3);
  const zero = i32x4.splat(0);
  for (let o = 0; o < outer; o++) {
    let po = dPtr(d, 0);
    let pa = nin >= 1 ? dPtr(d, 1) : 0;
    let pb = nin >= 2 ? dPtr(d, 2) : 0;
    let pc = nin >= 3 ? dPtr(d, 3) : 0;
    let i = 0;
    if (dense) {
      for (; i + 4 <= n; i += 4) {
        const va = nin >= 1 ? load4(s1, pa) : zero;
        const vb = nin >= 2 ? load4(s2, pb) : zero;
        const vc = nin >= 3 ? load4(s3, pc) : zero;
        store4(so, po, lanes(op, va, vb, vc, p0, p1, p2));
        po += <usize>(so << 2); pa += <usize>(s1 << 2); pb += <usize>(s2 << 2); pc += <usize>(s3 << 2);
      }
    } else if (nin == 2 && t0 == so && t1 == s1 && t2 == 0) {
      // x op scalar (a broadcast scalar or row): the splat hoisted, one load per step
      const b0 = load1(s2, pb);
      for (; i + 4 <= n; i += 4) {
        store4(so, po, lanes(op, load4(s1, pa), b0, zero, p0, p1, p2));
        po += <usize>(so << 2); pa += <usize>(s1 << 2);
      }
    } else if (nin == 2 && t0 == so && t1 == 0 && t2 == s2) {
      const a0 = load1(s1, pa);
      for (; i + 4 <= n; i += 4) {
        store4(so, po, lanes(op, a0, load4(s2, pb), zero, p0, p1, p2));
        po += <usize>(so << 2); pb += <usize>(s2 << 2);
      }
    } else if (vecOk) {
      const a0 = nin >= 1 ? load1(s1, pa) : zero;
      const b0 = nin >= 2 ? load1(s2, pb) : zero;
      const c0 = nin >= 3 ? load1(s3, pc) : zero;
      for (; i + 4 <= n; i += 4) {
        const va = nin >= 1 && t1 != 0 ? load4(s1, pa) : a0;
        const vb = nin >= 2 && t2 != 0 ? load4(s2, pb) : b0;
        const vc = nin >= 3 && t3 != 0 ? load4(s3, pc) : c0;
        store4(so, po, lanes(op, va, vb, vc, p0, p1, p2));
        po += <usize>(so << 2); pa += <usize>(t1 << 2); pb += <usize>(t2 << 2); pc += <usize>(t3 << 2);
      }
    }
    for (; i < n; i++) {
      const va = nin >= 1 ? load1(s1, pa) : zero;
      const vb = nin >= 2 ? load1(s2, pb) : zero;
      const vc = nin >= 3 ? load1(s3, pc) : zero;
      store1(so, po, lanes(op, va, vb, vc, p0, p1, p2));
      po += <usize>t0; pa += <usize>t1; pb += <usize>t2; pc += <usize>t3;
    }
    odoNext(d, nin + 1);
  }
}
