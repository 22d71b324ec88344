/**
 * @module common — shared pieces of the kernels: the descriptor layout, the
 * strided odometer, lane loads/stores and the vectorised transcendental functions.
 *
 * Descriptor ABI (i32 words at the pointer `d` the host passes; all strides in BYTES):
 *   [0]            rank r (>= 1; the host collapses contiguous dims first)
 *   [1..5)         current byte pointers of operands 0..3 (0 = out, 1..3 = inputs)
 *   [5..21)        shape[16]
 *   [21..37)       odometer counters[16] (scratch)
 *   [37 + 16*k ..) strides of operand k (k = 0..3), 16 words each
 * The innermost dim (r-1) is the one the SIMD loop walks; the odometer walks the rest.
 */

export const MAX_RANK: i32 = 16;
export const D_PTR: usize = 4;
export const D_SHAPE: usize = 20;
export const D_IDX: usize = 84;
export const D_STRIDES: usize = 148;

// @ts-ignore: decorator
@inline export function dShape(d: usize, i: i32): i32 { return load<i32>(d + D_SHAPE + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline export function dStride(d: usize, k: i32, i: i32): i32 { return load<i32>(d + D_STRIDES + (<usize>k << 6) + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline export function dPtr(d: usize, k: i32): usize { return load<usize>(d + D_PTR + (<usize>k << 2)); }

/** Zeroes the counters and returns how many inner rows the odometer visits. */
export function odoStart(d: usize): i32 {
  const last = load<i32>(d) - 1;
  let outer = 1;
  for (let i = 0; i < last; i++) {
    outer *= dShape(d, i);
    store<i32>(d + D_IDX + (<usize>i << 2), 0);
  }
  return outer;
}

/** Advances the odometer over dims [0, r-1) and moves the `nops` operand pointers. */
export function odoNext(d: usize, nops: i32): void {
  let k = load<i32>(d) - 2;
  while (k >= 0) {
    const ia = d + D_IDX + (<usize>k << 2);
    const ix = load<i32>(ia) + 1;
    const dk = dShape(d, k);
    if (ix < dk) {
      store<i32>(ia, ix);
      for (let p = 0; p < nops; p++) {
        const pa = d + D_PTR + (<usize>p << 2);
        store<usize>(pa, load<usize>(pa) + <usize>dStride(d, p, k));
      }
      return;
    }
    store<i32>(ia, 0);
    for (let p = 0; p < nops; p++) {
      const pa = d + D_PTR + (<usize>p << 2);
      store<usize>(pa, load<usize>(pa) - <usize>(dStride(d, p, k) * (dk - 1)));
    }
    k--;
  }
}

// ---- lane helpers: every value travels as 4 x 32-bit lanes; bool (u8) widens/narrows at the edges.

// @ts-ignore: decorator
@inline export function load4(size: i32, p: usize): v128 {
  if (size == 4) return v128.load(p);
  return i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load32_zero(p)));
}
// @ts-ignore: decorator
@inline export function load1(size: i32, p: usize): v128 {
  if (size == 4) return v128.load32_splat(p);
  return i32x4.splat(<i32>load<u8>(p));
}
// @ts-ignore: decorator
@inline export function narrow(v: v128): v128 {
  const h = i16x8.narrow_i32x4_u(v, v);
  return i8x16.narrow_i16x8_u(h, h);
}
// @ts-ignore: decorator
@inline export function store4(size: i32, p: usize, v: v128): void {
  if (size == 4) v128.store(p, v);
  else v128.store32_lane(p, narrow(v), 0);
}
// @ts-ignore: decorator
@inline export function store1(size: i32, p: usize, v: v128): void {
  if (size == 4) v128.store32_lane(p, v, 0);
  else v128.store8_lane(p, narrow(v), 0);
}

// ---- arithmetic helpers

/** a * b + c; a fused multiply-add in the relaxed build (non-deterministic rounding there). */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}
// @ts-ignore: decorator
@inline export function fs(x: f32): v128 { return f32x4.splat(x); }
// @ts-ignore: decorator
@inline export function is(x: i32): v128 { return i32x4.splat(x); }
/** mask ? a : b */
// @ts-ignore: decorator
@inline export function sel(mask: v128, a: v128, b: v128): v128 { return v128.bitselect(a, b, mask); }

/** 1 or 0 as 32-bit lanes from an all-ones/all-zeros mask. */
// @ts-ignore: decorator
@inline export function bit(mask: v128): v128 { return v128.and(mask, i32x4.splat(1)); }

// ---- transcendental functions (Cephes single-precision polynomials; musl's erfcf)
// Max error against float64 rounded to f32, over 2^20 points (bench/wasm-accuracy.mjs):
// exp 1 ulp, log 1, tanh 2, sigmoid 2, silu 3, softplus 3, elu 1, gelu (erf) 4,
// gelu_tanh 4. Mean errors are 0.01-0.4 ulp. The relaxed build fuses multiply-adds
// and differs from these by about an ulp.

/** e^x, lane-wise. Max error ~2 ulp; overflow gives +inf, underflow goes through denormals to 0. */
export function vexp(x: v128): v128 {
  const xc = f32x4.max(f32x4.min(x, fs(89.0)), fs(-104.0));
  const n = f32x4.nearest(f32x4.mul(xc, fs(1.44269504088896341)));
  let r = madd(n, fs(-0.693359375), xc);
  r = madd(n, fs(2.12194440e-4), r);
  let p = fs(1.9875691500e-4);
  p = madd(p, r, fs(1.3981999507e-3));
  p = madd(p, r, fs(8.3334519073e-3));
  p = madd(p, r, fs(4.1665795894e-2));
  p = madd(p, r, fs(1.6666665459e-1));
  p = madd(p, r, fs(5.0000001201e-1));
  p = madd(f32x4.mul(p, r), r, r);
  p = f32x4.add(p, fs(1.0));
  // 2^n in two factors so n in [-150, 128] never leaves the normal exponent range.
  const ni = i32x4.trunc_sat_f32x4_s(n);
  const n1 = i32x4.shr_s(ni, 1);
  const n2 = i32x4.sub(ni, n1);
  const s1 = i32x4.shl(i32x4.add(n1, is(127)), 23);
  const s2 = i32x4.shl(i32x4.add(n2, is(127)), 23);
  return f32x4.mul(f32x4.mul(p, s1), s2);
}

/** e^x - 1, accurate near 0 (Taylor series for |x| < 0.5). */
export function vexpm1(x: v128): v128 {
  let t = fs(1.0 / 40320.0);
  t = madd(t, x, fs(1.0 / 5040.0));
  t = madd(t, x, fs(1.0 / 720.0));
  t = madd(t, x, fs(1.0 / 120.0));
  t = madd(t, x, fs(1.0 / 24.0));
  t = madd(t, x, fs(1.0 / 6.0));
  t = madd(t, x, fs(0.5));
  t = madd(f32x4.mul(t, x), x, x);
  const big = f32x4.sub(vexp(x), fs(1.0));
  return sel(f32x4.lt(f32x4.abs(x), fs(0.5)), t, big);
}

/** Natural log, lane-wise. log(0) = -inf, log(x<0) = NaN, log(inf) = inf. Max error ~1 ulp. */
export function vlog(x0: v128): v128 {
  // Denormals: scale by 2^23 first.
  const den = f32x4.lt(x0, fs(1.17549435e-38));
  const x = sel(den, f32x4.mul(x0, fs(8388608.0)), x0);
  let e = i32x4.sub(i32x4.shr_u(x, 23), is(126));
  e = sel(den, i32x4.sub(e, is(23)), e);
  let m = v128.or(v128.and(x, is(0x007fffff)), is(0x3f000000));
  const lo = f32x4.lt(m, fs(0.707106781186547524));
  e = sel(lo, i32x4.sub(e, is(1)), e);
  m = f32x4.sub(sel(lo, f32x4.add(m, m), m), fs(1.0));
  const ef = f32x4.convert_i32x4_s(e);
  const z = f32x4.mul(m, m);
  let y = fs(7.0376836292e-2);
  y = madd(y, m, fs(-1.1514610310e-1));
  y = madd(y, m, fs(1.1676998740e-1));
  y = madd(y, m, fs(-1.2420140846e-1));
  y = madd(y, m, fs(1.4249322787e-1));
  y = madd(y, m, fs(-1.6668057665e-1));
  y = madd(y, m, fs(2.0000714765e-1));
  y = madd(y, m, fs(-2.4999993993e-1));
  y = madd(y, m, fs(3.3333331174e-1));
  y = f32x4.mul(f32x4.mul(y, m), z);
  y = madd(ef, fs(-2.12194440e-4), y);
  y = madd(z, fs(-0.5), y);
  let r = f32x4.add(m, y);
  r = madd(ef, fs(0.693359375), r);
  // Specials: x == 0 -> -inf; x < 0 or NaN -> NaN; +inf -> +inf.
  r = sel(f32x4.eq(x0, fs(Infinity)), x0, r);
  r = sel(f32x4.eq(x0, fs(0.0)), fs(-Infinity), r);
  r = sel(f32x4.ge(x0, fs(0.0)), r, fs(NaN));
  return r;
}

/** log(1 + x) for x >= 0, accurate for small x (log(u) * x / (u - 1), u = 1 + x). */
export function vlog1p(x: v128): v128 {
  const u = f32x4.add(x, fs(1.0));
  const d = f32x4.sub(u, fs(1.0));
  const r = f32x4.div(f32x4.mul(vlog(u), x), d);
  // u == 1: log1p(x) = x; u == inf: log(u).
  return sel(f32x4.eq(d, fs(0.0)), x, sel(f32x4.eq(u, fs(Infinity)), u, r));
}

/** e^(-x^2 / 2) with x^2 split exactly (hi part of 11 bits), accurate for large |x|. */
export function vexpHalfSq(x: v128): v128 {
  const a = f32x4.abs(x);
  const z = v128.and(a, is(<i32>0xffffe000));
  const e1 = vexp(f32x4.mul(f32x4.mul(z, z), fs(-0.5)));
  const e2 = vexp(f32x4.mul(f32x4.mul(f32x4.sub(z, a), f32x4.add(z, a)), fs(0.5)));
  return f32x4.mul(e1, e2);
}

/** tanh(x) = sign(x) * e / (e + 2), e = expm1(2|x|); |x| clamped at 9.5 where tanh rounds to 1. */
export function vtanh(x: v128): v128 {
  const a = f32x4.min(f32x4.abs(x), fs(9.5));
  const e = vexpm1(f32x4.add(a, a));
  const t = f32x4.div(e, f32x4.add(e, fs(2.0)));
  return v128.or(t, v128.and(x, is(0x80000000)));
}

/** 1 / (1 + e^-x), as e / (1 + e) with e = e^x for x < 0 so tiny results keep their denormals. */
export function vsigmoid(x: v128): v128 {
  const e = vexp(f32x4.neg(f32x4.abs(x)));
  const r = f32x4.div(fs(1.0), f32x4.add(fs(1.0), e));
  return sel(f32x4.lt(x, fs(0.0)), f32x4.mul(e, r), r);
}

/**
 * erfc(x) where x = xs * scale rounded, scale = +-sqrt(s2), lane-wise: the musl/FreeBSD
 * erfcf rational approximations evaluated branch-free. For |x| >= 1.25 the dominant
 * factor exp(-x^2) is formed from xs (exactly split, as musl splits x) so the rounding
 * of xs * scale does not get amplified by the steep tail. Pass xs = x, s2 = 1 for plain erfc.
 */
export function verfc(x: v128, xs: v128, s2: f32): v128 {
  const a = f32x4.abs(x);
  const neg = i32x4.lt_s(x, is(0));
  // |x| < 0.84375: erf(x) = x + x*R(x^2)
  const z = f32x4.mul(x, x);
  let r = fs(-2.3763017452e-05);
  r = madd(r, z, fs(-5.7702702470e-03));
  r = madd(r, z, fs(-2.8481749818e-02));
  r = madd(r, z, fs(-3.2504209876e-01));
  r = madd(r, z, fs(1.2837916613e-01));
  let s = fs(-3.9602282413e-06);
  s = madd(s, z, fs(1.3249473704e-04));
  s = madd(s, z, fs(5.0813062117e-03));
  s = madd(s, z, fs(6.5022252500e-02));
  s = madd(s, z, fs(3.9791721106e-01));
  s = madd(s, z, fs(1.0));
  const y = f32x4.div(r, s);
  const xy = f32x4.mul(x, y);
  const smallA = f32x4.sub(fs(1.0), f32x4.add(x, xy));
  const smallB = f32x4.sub(fs(0.5), f32x4.add(f32x4.sub(x, fs(0.5)), xy));
  const small = sel(v128.or(neg, f32x4.lt(a, fs(0.25))), smallA, smallB);
  // 0.84375 <= |x| < 1.25: erfc(|x|) = 1 - erx - P/Q(|x| - 1)
  const t = f32x4.sub(a, fs(1.0));
  let p = fs(-2.1663755178e-03);
  p = madd(p, t, fs(3.5478305072e-02));
  p = madd(p, t, fs(-1.1089469492e-01));
  p = madd(p, t, fs(3.1834661961e-01));
  p = madd(p, t, fs(-3.7220788002e-01));
  p = madd(p, t, fs(4.1485610604e-01));
  p = madd(p, t, fs(-2.3621185683e-03));
  let q = fs(1.1984500103e-02);
  q = madd(q, t, fs(1.3637083583e-02));
  q = madd(q, t, fs(1.2617121637e-01));
  q = madd(q, t, fs(7.1828655899e-02));
  q = madd(q, t, fs(5.4039794207e-01));
  q = madd(q, t, fs(1.0642088205e-01));
  q = madd(q, t, fs(1.0));
  const mid = f32x4.sub(fs(1.0 - 8.4506291151e-01), f32x4.div(p, q));
  // 1.25 <= |x| < 28: erfc(|x|) = exp(-z^2 - 0.5625) * exp((z-x)(z+x) + R/S) / x
  const ss = f32x4.div(fs(1.0), z);
  const m = f32x4.lt(a, fs(2.85714285714));
  let R = sel(m, fs(-9.8143291473e+00), fs(0.0));
  R = madd(R, ss, sel(m, fs(-8.1287437439e+01), fs(-4.8351919556e+02)));
  R = madd(R, ss, sel(m, fs(-1.8460508728e+02), fs(-1.0250950928e+03)));
  R = madd(R, ss, sel(m, fs(-1.6239666748e+02), fs(-6.3756646729e+02)));
  R = madd(R, ss, sel(m, fs(-6.2375331879e+01), fs(-1.6063638306e+02)));
  R = madd(R, ss, sel(m, fs(-1.0558626175e+01), fs(-1.7757955551e+01)));
  R = madd(R, ss, sel(m, fs(-6.9385856390e-01), fs(-7.9928326607e-01)));
  R = madd(R, ss, sel(m, fs(-9.8649440333e-03), fs(-9.8649431020e-03)));
  let S = sel(m, fs(-6.0424413532e-02), fs(0.0));
  S = madd(S, ss, sel(m, fs(6.5702495575e+00), fs(-2.2440952301e+01)));
  S = madd(S, ss, sel(m, fs(1.0863500214e+02), fs(4.7452853394e+02)));
  S = madd(S, ss, sel(m, fs(4.2900814819e+02), fs(2.5530502930e+03)));
  S = madd(S, ss, sel(m, fs(6.4538726807e+02), fs(3.1998581543e+03)));
  S = madd(S, ss, sel(m, fs(4.3456588745e+02), fs(1.5367296143e+03)));
  S = madd(S, ss, sel(m, fs(1.3765776062e+02), fs(3.2579251099e+02)));
  S = madd(S, ss, sel(m, fs(1.9651271820e+01), fs(3.0338060379e+01)));
  S = madd(S, ss, fs(1.0));
  const xa = f32x4.abs(xs);
  const zz = v128.and(xa, is(<i32>0xffffe000));
  const e1 = vexp(f32x4.sub(f32x4.neg(f32x4.mul(f32x4.mul(zz, zz), fs(s2))), fs(0.5625)));
  const e2 = vexp(f32x4.add(f32x4.mul(f32x4.mul(f32x4.sub(zz, xa), f32x4.add(zz, xa)), fs(s2)), f32x4.div(R, S)));
  let big = f32x4.div(f32x4.mul(e1, e2), a);
  big = sel(f32x4.lt(a, fs(28.0)), big, fs(0.0));
  let tail = sel(f32x4.lt(a, fs(1.25)), mid, big);
  tail = sel(neg, f32x4.sub(fs(2.0), tail), tail);
  const res = sel(f32x4.lt(a, fs(0.84375)), small, tail);
  return sel(f32x4.ne(x, x), x, res);
}
