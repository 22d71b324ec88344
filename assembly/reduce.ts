/**
 * @module reduce — reductions over one axis of a contiguous input viewed as
 * [outer, r, inner]: `<op>_<dtype>(x, out, outer, r, inner)`; out is [outer, inner].
 *
 * Sums accumulate in a fixed order, so results are deterministic: in index order along
 * the axis (each output is ((x0 + x1) + x2) + ...; when inner >= 4 the SIMD lanes carry 4
 * independent outputs), except along a contiguous last axis (inner == 1) of at least
 * SPLIT_MIN elements, which {@link splitSum} adds as 16 interleaved partial sums.
 * max/min propagate NaN; argmax/argmin give the first extreme index, or the first NaN.
 */

const SUM: i32 = 0, MAXR: i32 = 1, MINR: i32 = 2;

/** Last-axis sums this long use {@link splitSum}. */
const SPLIT_MIN: i32 = 64;

/**
 * The sum of r contiguous floats (r >= 16) in a fixed order that does not wait on one add
 * per element: four f32x4 accumulators take elements 16i..16i+15 (accumulator a holds
 * lanes 16i+4a .. 16i+4a+3), combined as (acc0 + acc1) + (acc2 + acc3); the four lanes of
 * that as (l0 + l2) + (l1 + l3); then the r mod 16 tail elements in index order. An
 * index-order sum waits one add latency per element (~0.25 elements a cycle); this keeps
 * 16 adds in flight.
 */
// @ts-ignore: decorator
@inline function splitSum(xo: usize, r: i32): f32 {
  let a0 = v128.load(xo), a1 = v128.load(xo, 16), a2 = v128.load(xo, 32), a3 = v128.load(xo, 48);
  let k = 16;
  for (; k + 16 <= r; k += 16) {
    const p = xo + (<usize>k << 2);
    a0 = f32x4.add(a0, v128.load(p)); a1 = f32x4.add(a1, v128.load(p, 16));
    a2 = f32x4.add(a2, v128.load(p, 32)); a3 = f32x4.add(a3, v128.load(p, 48));
  }
  const s = f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3));
  let total = (f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 2)) + (f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 3));
  for (; k < r; k++) total += load<f32>(xo + (<usize>k << 2));
  return total;
}

// @ts-ignore: decorator
@inline function comb(op: i32, isF: bool, a: v128, b: v128): v128 {
  if (op == SUM) return isF ? f32x4.add(a, b) : i32x4.add(a, b);
  if (op == MAXR) return isF ? f32x4.max(a, b) : i32x4.max_s(a, b);
  return isF ? f32x4.min(a, b) : i32x4.min_s(a, b);
}

// @ts-ignore: decorator
@inline function reduce(op: i32, isF: bool, x: usize, out: usize, outer: i32, r: i32, inner: i32): void {
  const rowBytes = <usize>inner << 2;
  for (let o = 0; o < outer; o++) {
    const xo = x + <usize>o * <usize>r * rowBytes;
    const oo = out + <usize>o * rowBytes;
    if (inner == 1 && op != SUM && r >= 4) {
      // Order-free: 4 lanes, then combine.
      let acc = v128.load(xo);
      let k = 4;
      for (; k + 4 <= r; k += 4) acc = comb(op, isF, acc, v128.load(xo + (<usize>k << 2)));
      let v = comb(op, isF, acc, v128.shuffle<i32>(acc, acc, 2, 3, 0, 1));
      v = comb(op, isF, v, v128.shuffle<i32>(v, v, 1, 0, 3, 2));
      for (; k < r; k++) v = comb(op, isF, v, v128.load32_splat(xo + (<usize>k << 2)));
      v128.store32_lane(oo, v, 0);
      continue;
    }
    if (inner == 1 && op == SUM && isF && r >= SPLIT_MIN) {
      store<f32>(oo, splitSum(xo, r));
      continue;
    }
    if (inner == 1) {
      // Short sums stay sequential (index order); lane 0 of a splat keeps one definition of the op.
      let v = op == SUM ? i32x4.splat(0) : v128.load32_splat(xo);
      for (let k = op == SUM ? 0 : 1; k < r; k++) v = comb(op, isF, v, v128.load32_splat(xo + (<usize>k << 2)));
      v128.store32_lane(oo, v, 0);
      continue;
    }
    // inner > 1: out row accumulates row by row, each lane in index order.
    let first = 0;
    if (op == SUM) {
      memory.fill(oo, 0, rowBytes);
    } else {
      memory.copy(oo, xo, rowBytes);
      first = 1;
    }
    for (let k = first; k < r; k++) {
      const xr = xo + <usize>k * rowBytes;
      let j = 0;
      for (; j + 4 <= inner; j += 4) {
        const p = oo + (<usize>j << 2);
        v128.store(p, comb(op, isF, v128.load(p), v128.load(xr + (<usize>j << 2))));
      }
      for (; j < inner; j++) {
        const p = oo + (<usize>j << 2);
        v128.store32_lane(p, comb(op, isF, v128.load32_splat(p), v128.load32_splat(xr + (<usize>j << 2))), 0);
      }
    }
  }
}

/** Mask of lanes where v beats best: strictly greater (or less), or the first NaN. */
// @ts-ignore: decorator
@inline function beats(isMax: bool, isF: bool, v: v128, best: v128): v128 {
  if (isF) {
    const c = isMax ? f32x4.gt(v, best) : f32x4.lt(v, best);
    return v128.or(c, v128.and(f32x4.ne(v, v), f32x4.eq(best, best)));
  }
  return isMax ? i32x4.gt_s(v, best) : i32x4.lt_s(v, best);
}

// @ts-ignore: decorator
@inline function argReduce(isMax: bool, isF: bool, x: usize, out: usize, outer: i32, r: i32, inner: i32): void {
  const rowBytes = <usize>inner << 2;
  for (let o = 0; o < outer; o++) {
    const xo = x + <usize>o * <usize>r * rowBytes;
    const oo = out + <usize>o * rowBytes;
    let j = 0;
    for (; j + 4 <= inner; j += 4) {
      let best = v128.load(xo + (<usize>j << 2));
      let bi = i32x4.splat(0);
      for (let k = 1; k < r; k++) {
        const v = v128.load(xo + <usize>k * rowBytes + (<usize>j << 2));
        const m = beats(isMax, isF, v, best);
        best = v128.bitselect(v, best, m);
        bi = v128.bitselect(i32x4.splat(k), bi, m);
      }
      v128.store(oo + (<usize>j << 2), bi);
    }
    for (; j < inner; j++) {
      let best = v128.load32_splat(xo + (<usize>j << 2));
      let bi = 0;
      for (let k = 1; k < r; k++) {
        const v = v128.load32_splat(xo + <usize>k * rowBytes + (<usize>j << 2));
        if (i32x4.extract_lane(beats(isMax, isF, v, best), 0) != 0) {
          best = v;
          bi = k;
        }
      }
      store<i32>(oo + (<usize>j << 2), bi);
    }
  }
}

export function sum_f32(x: usize, out: usize, outer: i32, r: i32, inner: i32): void { reduce(SUM, true, x, out, outer, r, inner); }
export function sum_i32(x: usize, out: usize, outer: i32, r: i32, inner: i32): void { reduce(SUM, false, x, out, outer, r, inner); }
export function max_f32(x: usize, out: usize, outer: i32, r: i32, inner: i32): void { reduce(MAXR, true, x, out, outer, r, inner); }
export function max_i32(x: usize, out: usize, outer: i32, r: i32, inner: i32): void { reduce(MAXR, false, x, out, outer, r, inner); }
export function min_f32(x: usize, out: usize, outer: i32, r: i32, inner: i32): void { reduce(MINR, true, x, out, outer, r, inner); }
export function min_i32(x: usize, out: usize, outer: i32, r: i32, inner: i32): void { reduce(MINR, false, x, out, outer, r, inner); }
export function argmax_f32(x: usize, out: usize, outer: i32, r: i32, inner: i32): void { argReduce(true, true, x, out, outer, r, inner); }
export function argmax_i32(x: usize, out: usize, outer: i32, r: i32, inner: i32): void { argReduce(true, false, x, out, outer, r, inner); }
export function argmin_f32(x: usize, out: usize, outer: i32, r: i32, inner: i32): void { argReduce(false, true, x, out, outer, r, inner); }
export function argmin_i32(x: usize, out: usize, outer: i32, r: i32, inner: i32): void { argReduce(false, false, x, out, outer, r, inner); }
