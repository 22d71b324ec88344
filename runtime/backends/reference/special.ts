/**
 * @module backends/reference/special — special functions in double precision that JavaScript's Math lacks.
 *
 * The reference backend uses `erf` for exact GELU; the tensor layer and tests may use them too.
 * erf is accurate to about 1e-15 relative over the whole real line; erfc to about 4e-15
 * (for large x the rounding of x*x inside exp(-x*x) dominates). Each call costs at most a
 * few dozen iterations.
 */

/** 2 / sqrt(pi). */
const TWO_OVER_SQRT_PI = 1.1283791670955126;
/** 1 / sqrt(pi). */
const ONE_OVER_SQRT_PI = 0.5641895835477563;

/**
 * Below this |x| the power series converges fast and has no cancellation; above it the
 * continued fraction for erfc converges in a few dozen steps.
 */
const SERIES_LIMIT = 3;

/**
 * erf for |x| < SERIES_LIMIT through the series with positive terms (Abramowitz & Stegun 7.1.6):
 * erf(x) = 2/sqrt(pi) * exp(-x^2) * sum_n 2^n x^(2n+1) / (1 * 3 * ... * (2n+1)).
 * No term is subtracted, so the relative error stays at a few ulps.
 */
function erfSeries(x: number): number {
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
    if (Math.abs(term) <= Math.abs(sum) * 1e-17) break;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
}

/**
 * erfc for x > 0 through Laplace's continued fraction (A&S 7.1.14):
 * erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...))))),
 * evaluated with the modified Lentz method. It converges for every x > 0, quickly for x >= 2.
 */
function erfcContinuedFraction(x: number): number {
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < 5000; n++) {
    const a = n / 2;
    d = x + a * d;
    if (d === 0) d = tiny;
    c = x + a / c;
    if (c === 0) c = tiny;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return (ONE_OVER_SQRT_PI * Math.exp(-x * x)) / f;
}

/**
 * The error function, erf(x) = 2/sqrt(pi) * integral from 0 to x of exp(-t^2) dt, in double
 * precision. Odd; erf(±Inf) = ±1; erf(NaN) = NaN.
 * @example erf(1) // 0.8427007929497149
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return x;
  const ax = Math.abs(x);
  if (ax < SERIES_LIMIT) return erfSeries(x);
  if (ax === Infinity) return Math.sign(x);
  const r = 1 - erfcContinuedFraction(ax);
  return x < 0 ? -r : r;
}

/**
 * The complementary error function, erfc(x) = 1 - erf(x), without the cancellation of
 * computing `1 - erf(x)` for large x. erfc(-Inf) = 2, erfc(Inf) = 0.
 * @example erfc(3) // 2.209049699858544e-5
 */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return x;
  if (x < 1) return 1 - erf(x);
  if (x === Infinity) return 0;
  return erfcContinuedFraction(x);
}
