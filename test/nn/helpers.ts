/**
 * @module nn/helpers — shared pieces of the nn suites: the backends to run on and small
 * readback helpers. Gradient checks use test/helpers/gradcheck.ts.
 */
import { expect } from 'vitest';
import type { Backend } from '../../runtime/backend.ts';
import type { Tensor } from '../../runtime/tensor/index.ts';
import { availableBackends } from '../helpers/backends.ts';

/** Every available backend (reference first). */
export const BACKENDS: readonly Backend[] = await availableBackends();

/** The tensor's values as a plain array. */
export async function values(t: Tensor): Promise<number[]> {
  return Array.from(await t.data());
}

/** Asserts |a − e| <= atol + rtol·|e| elementwise. */
export function expectNear(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rtol = 1e-5,
  atol = 1e-6,
  context = '',
): void {
  expect(actual.length, `${context} length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e)) {
      expect(a, `${context} [${i}]`).toBeNaN();
      continue;
    }
    expect(Math.abs(a - e), `${context} [${i}]: got ${a}, expected ${e}`).toBeLessThanOrEqual(
      atol + rtol * Math.abs(e),
    );
  }
}
