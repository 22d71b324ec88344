/**
 * @module tolerance — the one table of numeric tolerances that backend tests use, per
 * (op family, dtype), and `expectClose` to compare against it.
 *
 * int32 and bool results are always exact. Float families:
 * - exact: selection and movement (copy, where, gather, max, comparisons, relu, ...);
 * - rounding: one correctly rounded float op per element (add, mul, div, sqrt, leaky_relu);
 * - transcendental: libm-style functions (exp, log, tanh, gelu, pow, ...), whose float32
 *   versions may use their own approximations;
 * - activation_backward: a few transcendental steps multiplied together;
 * - sum and matmul: accumulations whose atol grows with the number of terms, since a
 *   float32 backend accumulates in float32 (the reference in float64).
 * - gradient: a whole backward pass (a chain of the families above) in float32 against
 *   the float64 reference's gradient, for the tensor layer's gradient parity tests.
 *
 * Web-standard only (no vitest, no node:*): the parity suite runs this file in Deno and
 * Chromium too. `expectClose` throws a plain Error, which every test runner reports.
 */
import type { DType } from '../../runtime/dtype.ts';
import type { OpName } from '../../runtime/ops.ts';

/** |actual - expected| <= atol + rtol * |expected|, e.g. `{ rtol: 1e-5, atol: 1e-6 }`. */
export interface Tolerance {
  readonly rtol: number;
  readonly atol: number;
}

/** The groups of ops that share a tolerance, e.g. `familyOf('exp') === 'transcendental'`. */
export type ToleranceFamily =
  | 'exact'
  | 'rounding'
  | 'transcendental'
  | 'activation_backward'
  | 'sum'
  | 'matmul'
  | 'gradient';

const EXACT: Tolerance = { rtol: 0, atol: 0 };

/**
 * THE table. For `sum` and `matmul` the atol is per accumulated term (see `toleranceFor`).
 * Inputs of those families are drawn from [-4, 4] and [-1, 1], so the atol covers the
 * float32 rounding of partial sums up to that magnitude.
 * @example TOLERANCES.transcendental.float32 // { rtol: 1e-5, atol: 1e-6 }
 */
export const TOLERANCES: {
  readonly [F in ToleranceFamily]: { readonly float32: Tolerance; readonly float64: Tolerance };
} = {
  exact: { float32: EXACT, float64: EXACT },
  rounding: { float32: { rtol: 2.4e-7, atol: 0 }, float64: { rtol: 4.5e-16, atol: 0 } },
  transcendental: { float32: { rtol: 1e-5, atol: 1e-6 }, float64: { rtol: 1e-12, atol: 1e-14 } },
  activation_backward: { float32: { rtol: 2e-5, atol: 2e-6 }, float64: { rtol: 1e-11, atol: 1e-13 } },
  sum: { float32: { rtol: 1e-6, atol: 1e-6 }, float64: { rtol: 1e-14, atol: 2e-15 } },
  matmul: { float32: { rtol: 1e-5, atol: 2e-7 }, float64: { rtol: 1e-13, atol: 4e-16 } },
  gradient: { float32: { rtol: 1e-4, atol: 1e-5 }, float64: { rtol: 1e-10, atol: 1e-12 } },
};

/**
 * The tolerance family of a primitive.
 * @example familyOf('exp') // 'transcendental'
 */
export function familyOf(op: OpName): ToleranceFamily {
  switch (op) {
    case 'add':
    case 'sub':
    case 'mul':
    case 'div':
    case 'sqrt':
    case 'leaky_relu':
      return 'rounding';
    case 'exp':
    case 'log':
    case 'sigmoid':
    case 'tanh':
    case 'gelu':
    case 'gelu_tanh':
    case 'silu':
    case 'softplus':
    case 'elu':
    case 'pow':
      return 'transcendental';
    case 'unary_backward':
      return 'activation_backward';
    case 'adam':
      return 'transcendental';
    case 'sum':
    case 'scatter_add':
    case 'col2im':
      return 'sum';
    case 'matmul':
      return 'matmul';
    default:
      return 'exact';
  }
}

/**
 * The tolerance for `op` producing `dtype`; `terms` scales the atol of accumulating ops
 * (the reduced length, or K for matmul).
 * @example toleranceFor('matmul', 'float32', { terms: 784 }) // { rtol: 1e-5, atol: 1.568e-4 }
 */
export function toleranceFor(op: OpName, dtype: DType, options: { readonly terms?: number } = {}): Tolerance {
  if (dtype !== 'float32' && dtype !== 'float64') return EXACT;
  const family = familyOf(op);
  const base = TOLERANCES[family][dtype];
  if (family !== 'sum' && family !== 'matmul') return base;
  return { rtol: base.rtol, atol: base.atol * Math.max(1, options.terms ?? 1) };
}

/** Formats a value so that -0 and NaN are visible. */
function show(v: number | undefined): string {
  if (v === undefined) return 'undefined';
  return Object.is(v, -0) ? '-0' : String(v);
}

/**
 * Asserts that `actual` matches `expected` elementwise within `tol`: NaN matches NaN,
 * an infinity must match exactly, ±0 are equal. The failure message names the worst index.
 * @example expectClose(new Float32Array([1]), new Float32Array([1.0000001]), { rtol: 1e-6, atol: 0 }, 'add float32')
 */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: Tolerance,
  context: string,
): void {
  if (actual.length !== expected.length) {
    throw new Error(`${context}: result length differs; expected ${expected.length}, got ${actual.length}`);
  }
  let bad = 0;
  let worst = -1;
  let worstRatio = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i] ?? NaN;
    const e = expected[i] ?? NaN;
    let ratio: number;
    if (Number.isNaN(e) || Number.isNaN(a)) ratio = Number.isNaN(e) && Number.isNaN(a) ? 0 : Infinity;
    else if (!Number.isFinite(e) || !Number.isFinite(a)) ratio = a === e ? 0 : Infinity;
    else {
      const diff = Math.abs(a - e);
      const allowed = tol.atol + tol.rtol * Math.abs(e);
      ratio = diff === 0 ? 0 : allowed === 0 ? Infinity : diff / allowed;
    }
    if (ratio > 1) {
      bad++;
      if (ratio > worstRatio || worst < 0) {
        worstRatio = ratio;
        worst = i;
      }
    }
  }
  if (bad > 0) {
    const a = actual[worst];
    const e = expected[worst];
    const diff = a !== undefined && e !== undefined ? Math.abs(a - e) : NaN;
    throw new Error(
      `${context}: ${bad} of ${expected.length} elements differ beyond rtol ${tol.rtol}, atol ${tol.atol}; ` +
        `expected ${show(e)} at index ${worst}, got ${show(a)} (|diff| ${diff})`,
    );
  }
}
