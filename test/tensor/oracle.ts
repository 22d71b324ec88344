/**
 * @module oracle — tiny plain-JS float64 implementations of tensor ops, independent of
 * runtime/, that the tensor-layer tests compare against.
 *
 * An `Nd` is a row-major array of numbers with a shape. Every function here is written
 * from the formula (or PyTorch's documented semantics), never by calling the runtime.
 */
import type { Tensor } from '../../runtime/tensor/index.ts';
import type { DType } from '../../runtime/dtype.ts';
import { expectClose, toleranceFor, type Tolerance } from '../helpers/tolerance.ts';
import type { OpName } from '../../runtime/ops.ts';

/** A row-major n-d array. */
export interface Nd {
  readonly shape: readonly number[];
  readonly data: readonly number[];
}

/** Builds an Nd. */
export function nd(shape: readonly number[], data: ArrayLike<number>): Nd {
  return { shape: [...shape], data: Array.from(data) };
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) s[d] = s[d + 1]! * shape[d + 1]!;
  return s;
}

export function unravel(flat: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length).fill(0);
  let rest = flat;
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = rest % shape[d]!;
    rest = Math.floor(rest / shape[d]!);
  }
  return idx;
}

function ravel(idx: readonly number[], shape: readonly number[]): number {
  let f = 0;
  for (let d = 0; d < shape.length; d++) f = f * shape[d]! + idx[d]!;
  return f;
}

/** NumPy broadcast of two shapes. */
export function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const x = a[a.length - r + i] ?? 1;
    const y = b[b.length - r + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new Error(`oracle: no broadcast ${a} ${b}`);
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** `a` broadcast to `shape`, materialised. */
export function broadcastTo(a: Nd, shape: readonly number[]): number[] {
  const n = numel(shape);
  const out = new Array<number>(n);
  const lead = shape.length - a.shape.length;
  for (let i = 0; i < n; i++) {
    const idx = unravel(i, shape)
      .slice(lead)
      .map((v, d) => (a.shape[d] === 1 ? 0 : v));
    out[i] = a.data[ravel(idx, a.shape)]!;
  }
  return out;
}

export function map(a: Nd, f: (x: number) => number): Nd {
  return nd(a.shape, a.data.map(f));
}

export function zip(a: Nd, b: Nd, f: (x: number, y: number) => number): Nd {
  const shape = broadcastShape(a.shape, b.shape);
  const x = broadcastTo(a, shape);
  const y = broadcastTo(b, shape);
  return nd(
    shape,
    x.map((v, i) => f(v, y[i]!)),
  );
}

/** Transpose of two dims. */
export function transpose(a: Nd, d0: number, d1: number): Nd {
  const order = a.shape.map((_, i) => i);
  order[d0] = d1;
  order[d1] = d0;
  return permute(a, order);
}

export function permute(a: Nd, order: readonly number[]): Nd {
  const shape = order.map((d) => a.shape[d]!);
  const n = numel(shape);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const idx = unravel(i, shape);
    const src = new Array<number>(a.shape.length);
    order.forEach((d, j) => {
      src[d] = idx[j]!;
    });
    out[i] = a.data[ravel(src, a.shape)]!;
  }
  return nd(shape, out);
}

/** Python's `a[..., start:end:step, ...]` along dim. */
export function sliceNd(a: Nd, dim: number, start: number, end: number, step: number): Nd {
  const picks: number[] = [];
  for (let i = start; i < Math.min(end, a.shape[dim]!); i += step) picks.push(i);
  const shape = [...a.shape];
  shape[dim] = picks.length;
  const n = numel(shape);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const idx = unravel(i, shape);
    idx[dim] = picks[idx[dim]!]!;
    out[i] = a.data[ravel(idx, a.shape)]!;
  }
  return nd(shape, out);
}

/** Reduces `dims` with `f` over the list of values (row-major order within each group). */
export function reduce(a: Nd, dims: readonly number[], keepdim: boolean, f: (vals: number[]) => number): Nd {
  const kept = a.shape.map((s, i) => (dims.includes(i) ? 1 : s));
  const groups: number[][] = Array.from({ length: numel(kept) }, () => []);
  for (let i = 0; i < a.data.length; i++) {
    const idx = unravel(i, a.shape).map((v, d) => (dims.includes(d) ? 0 : v));
    groups[ravel(idx, kept)]!.push(a.data[i]!);
  }
  const shape = keepdim ? kept : a.shape.filter((_, i) => !dims.includes(i));
  return nd(shape, groups.map(f));
}

export const sumOf = (v: number[]): number => v.reduce((s, x) => s + x, 0);
export const meanOf = (v: number[]): number => sumOf(v) / v.length;
export const varOf = (v: number[], correction = 1): number => {
  const m = meanOf(v);
  return sumOf(v.map((x) => (x - m) ** 2)) / (v.length - correction);
};
export const argmaxOf = (v: number[]): number => v.reduce((best, x, i) => (x > v[best]! ? i : best), 0);
export const argminOf = (v: number[]): number => v.reduce((best, x, i) => (x < v[best]! ? i : best), 0);

/** Batched matmul with broadcasting, for rank >= 2 inputs. */
export function matmulNd(a: Nd, b: Nd): Nd {
  const m = a.shape[a.shape.length - 2]!;
  const k = a.shape[a.shape.length - 1]!;
  const n = b.shape[b.shape.length - 1]!;
  const batch = broadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const ab = nd([...batch, m, k], broadcastTo(a, [...batch, m, k]));
  const bb = nd([...batch, k, n], broadcastTo(b, [...batch, k, n]));
  const B = numel(batch);
  const out: number[] = [];
  for (let p = 0; p < B; p++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let q = 0; q < k; q++) s += ab.data[p * m * k + i * k + q]! * bb.data[p * k * n + q * n + j]!;
        out.push(s);
      }
    }
  }
  return nd([...batch, m, n], out);
}

/** erf to ~1e-15: Taylor series below 2, a continued fraction for erfc above. */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax < 2) {
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 100; n++) {
      term *= (-ax * ax) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(x) = exp(-x²)/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...)))) (Lentz's method).
  const tiny = 1e-300;
  let f = ax;
  let c = ax;
  let d = 0;
  for (let n = 1; n < 300; n++) {
    const an = n / 2;
    d = ax + an * d;
    d = d === 0 ? tiny : 1 / d;
    c = ax + an / c;
    if (c === 0) c = tiny;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

export const sigmoidOf = (x: number): number => 1 / (1 + Math.exp(-x));
export const geluOf = (x: number): number => 0.5 * x * (1 + erf(x / Math.SQRT2));
export const geluTanhOf = (x: number): number =>
  0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
export const softplusOf = (x: number, beta = 1, threshold = 20): number =>
  beta * x > threshold ? x : Math.log1p(Math.exp(beta * x)) / beta;
export const eluOf = (x: number, alpha = 1): number => (x > 0 ? x : alpha * (Math.exp(x) - 1));

/** The tolerance for a float result of `dtype`, by op family (int/bool exact). */
export function tolFor(op: OpName, dtype: DType, terms = 1): Tolerance {
  return toleranceFor(op, dtype, { terms });
}

/** Asserts `t`'s shape, dtype and values match `expected`. */
export async function expectTensor(
  t: Tensor,
  expected: Nd,
  tol: Tolerance,
  context: string,
  dtype?: DType,
): Promise<void> {
  if (dtype !== undefined && t.dtype !== dtype) throw new Error(`${context}: dtype; expected ${dtype}, got ${t.dtype}`);
  if (t.shape.length !== expected.shape.length || t.shape.some((s, i) => s !== expected.shape[i])) {
    throw new Error(`${context}: shape; expected [${expected.shape.join(',')}], got [${t.shape.join(',')}]`);
  }
  expectClose(await t.data(), expected.data, tol, context);
}

/** Deterministic float data in [lo, hi), from a tiny LCG so cases replay from their seed. */
export function floats(n: number, seed: number, lo = -2, hi = 2): number[] {
  let s = (seed * 2654435761) >>> 0 || 1;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out.push(lo + ((s >>> 8) / 16777216) * (hi - lo));
  }
  return out;
}

/** Rounds every value to float32 (the values a float32 tensor really holds). */
export function f32(v: readonly number[]): number[] {
  return v.map((x) => Math.fround(x));
}
