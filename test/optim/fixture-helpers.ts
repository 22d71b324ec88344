/**
 * @module optim/fixture-helpers — loading the PyTorch fixtures of test/fixtures/ (written by
 * make-fixtures.py) and comparing against them with a measured worst relative error.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { tensor, type Tensor } from '../../runtime/tensor/index.ts';
import type { DType } from '../../runtime/dtype.ts';

/** A tensor as the fixtures store it: shape, torch dtype name, flat row-major data. */
export interface FixtureTensor {
  readonly shape: readonly number[];
  readonly dtype: string;
  readonly data: readonly (number | boolean)[];
}

/** Reads and parses `test/fixtures/<name>`. */
export function loadFixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8')) as T;
}

const DTYPES: Readonly<Record<string, DType>> = {
  float32: 'float32',
  float64: 'float64',
  int64: 'int32',
  int32: 'int32',
  bool: 'bool',
};

/** A tensor on the default backend from a fixture tensor (torch's int64 becomes int32). */
export function fromFixture(t: FixtureTensor, options: { readonly requiresGrad?: boolean } = {}): Tensor {
  const dtype = DTYPES[t.dtype] ?? 'float32';
  const flat = tensor(t.data.map(Number), { dtype });
  const shaped = t.shape.length === 1 ? flat : flat.reshape([...t.shape]);
  if (options.requiresGrad === true) shaped.requiresGrad_();
  return shaped;
}

/** The worst |a − e| / (atol + |e|) over the elements (0 when equal). */
export function worstRelative(actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number): number {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    const a = actual[i]!;
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    const r = Math.abs(a - e) / (atol + Math.abs(e));
    worst = Number.isNaN(r) ? Infinity : Math.max(worst, r);
  }
  return worst;
}

/**
 * Asserts |a − e| <= rtol·|e| + atol elementwise and returns the worst relative error
 * |a − e| / |e| over elements with |e| >= 1e-3 (smaller ones are held by atol), for the report.
 */
export function expectMatches(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rtol: number,
  atol: number,
  context: string,
): number {
  expect(actual.length, `${context}: length`).toBe(expected.length);
  let worstRel = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    const a = actual[i]!;
    const diff = Math.abs(a - e);
    if (!(diff <= rtol * Math.abs(e) + atol)) {
      throw new Error(
        `${context}: element ${i} differs from PyTorch beyond rtol ${rtol}, atol ${atol}; expected ${e}, got ${a} (|diff| ${diff})`,
      );
    }
    if (Math.abs(e) >= 1e-3) worstRel = Math.max(worstRel, diff / Math.abs(e));
  }
  return worstRel;
}

/** Records the worst relative error per label, printed once when `FIXTURE_REPORT=1`. */
export const worstErrors = new Map<string, number>();

/** Adds one measurement to `worstErrors`. */
export function noteError(label: string, value: number): void {
  worstErrors.set(label, Math.max(worstErrors.get(label) ?? 0, value));
}
