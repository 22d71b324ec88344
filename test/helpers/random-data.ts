/**
 * @module random-data — deterministic random inputs for backend tests, per dtype, with
 * special values (0, -0, ±1, NaN, ±Inf, int32 extremes) mixed in where an op allows them.
 *
 * Test inputs need their own tiny seeded generator (mulberry32): the runtime's RNG is
 * something under test elsewhere, and a failing case must replay from its seed alone.
 */
import type { DType, StorageArray } from '../../runtime/dtype.ts';
import { allocArray } from '../../runtime/dtype.ts';

/** A generator of floats in [0, 1), e.g. `createRng(7)`. */
export type Rng = () => number;

/**
 * A seeded mulberry32 generator.
 * @example const rng = createRng(42); rng() // same number every run
 */
export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A seed derived from a string (FNV-1a), so each named test case has its own stream.
 * @example seedOf('add float32 length 7')
 */
export function seedOf(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Float values that break naive kernels: signed zeros, units, NaN and infinities, e.g. `randomData('float32', 9, rng, { specials: FLOAT_SPECIALS })`. */
export const FLOAT_SPECIALS: readonly number[] = [0, -0, 1, -1, NaN, Infinity, -Infinity, 0.5, -2];

/** int32 values that break naive kernels: zero, units and the two extremes (wrapping), e.g. `{ specials: INT32_SPECIALS }`. */
export const INT32_SPECIALS: readonly number[] = [0, 1, -1, 2147483647, -2147483648];

/** How `randomData` draws values, e.g. `{ min: -1, max: 1 }`. */
export interface RandomDataOptions {
  /** Lower bound of the uniform draw. Default -4 for floats, -100 for int32. */
  readonly min?: number;
  /** Upper bound (inclusive for int32). Default 4 for floats, 100 for int32. */
  readonly max?: number;
  /** Special values to mix in; default none. */
  readonly specials?: readonly number[];
  /** Fraction of elements drawn from `specials`. Default 0.15. */
  readonly specialRate?: number;
  /** Draw from this small set only (for ties and exact comparisons). */
  readonly choices?: readonly number[];
}

/**
 * `length` deterministic values of `dtype`: uniform in [min, max] (integers for int32, 0/1
 * for bool), with a fraction of `specials` mixed in.
 * @example randomData('float32', 5, createRng(1), { specials: FLOAT_SPECIALS })
 */
export function randomData(dtype: DType, length: number, rng: Rng, options: RandomDataOptions = {}): StorageArray {
  const out = allocArray(dtype, length);
  const isInt = dtype === 'int32';
  const min = options.min ?? (isInt ? -100 : -4);
  const max = options.max ?? (isInt ? 100 : 4);
  const specials = options.specials ?? [];
  const rate = options.specialRate ?? 0.15;
  for (let i = 0; i < length; i++) {
    let v: number;
    if (options.choices !== undefined && options.choices.length > 0) {
      v = options.choices[Math.floor(rng() * options.choices.length)] ?? 0;
    } else if (specials.length > 0 && rng() < rate) {
      v = specials[Math.floor(rng() * specials.length)] ?? 0;
    } else if (dtype === 'bool') {
      v = rng() < 0.5 ? 0 : 1;
    } else if (isInt) {
      v = min + Math.floor(rng() * (max - min + 1));
    } else {
      v = min + rng() * (max - min);
    }
    out[i] = dtype === 'bool' ? (v !== 0 ? 1 : 0) : v;
  }
  return out;
}
