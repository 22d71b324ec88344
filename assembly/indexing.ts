/**
 * @module indexing — torch.gather and torch.scatter_add over the descriptor ABI.
 *
 * gather: operands [out, index, x-without-axis]; out = x[.. index ..] where the
 * axis offset is index * axisStride (bytes). scatter_add: operands
 * [out-without-axis, index, src]; out[.. index ..] += src, in index order.
 * Both return 0, or 1 after writing the offending index to word 0 of `d`.
 * gather's row path: when the index has stride 0 along the innermost dim and out and x are
 * contiguous along it (indexSelect's broadcast index, ops.ts), each inner row takes one
 * index and is copied whole, f32x4 main loop plus a scalar tail.
 */
import { dShape, dStride, dPtr, odoStart, odoNext } from './common';

// @ts-ignore: decorator
@inline function gather32(d: usize, axisStride: i32, axisSize: i32): i32 {
  const last = load<i32>(d) - 1;
  const n = dShape(d, last);
  const t0 = dStride(d, 0, last), t1 = dStride(d, 1, last), t2 = dStride(d, 2, last);
  const outer = odoStart(d);
  const rows = t1 == 0 && t0 == 4 && t2 == 4;
  const bytes = <usize>n << 2;
  for (let o = 0; o < outer; o++) {
    let po = dPtr(d, 0), pi = dPtr(d, 1), px = dPtr(d, 2);
    if (rows) {
      const ix = load<i32>(pi);
      if (<u32>ix >= <u32>axisSize) { store<i32>(d, ix); return 1; }
      const src = px + <usize>(ix * axisStride);
      let b: usize = 0;
      for (; b + 16 <= bytes; b += 16) v128.store(po + b, v128.load(src + b));
      for (; b < bytes; b += 4) store<u32>(po + b, load<u32>(src + b));
    } else {
      for (let i = 0; i < n; i++) {
        const ix = load<i32>(pi);
        if (<u32>ix >= <u32>axisSize) { store<i32>(d, ix); return 1; }
        store<u32>(po, load<u32>(px + <usize>(ix * axisStride)));
        po += <usize>t0; pi += <usize>t1; px += <usize>t2;
      }
    }
    odoNext(d, 3);
  }
  return 0;
}

// @ts-ignore: decorator
@inline function scatterAdd32(isF: bool, d: usize, axisStride: i32, axisSize: i32): i32 {
  const last = load<i32>(d) - 1;
  const n = dShape(d, last);
  const t0 = dStride(d, 0, last), t1 = dStride(d, 1, last), t2 = dStride(d, 2, last);
  const outer = odoStart(d);
  for (let o = 0; o < outer; o++) {
    let po = dPtr(d, 0), pi = dPtr(d, 1), ps = dPtr(d, 2);
    for (let i = 0; i < n; i++) {
      const ix = load<i32>(pi);
      if (<u32>ix >= <u32>axisSize) { store<i32>(d, ix); return 1; }
      const p = po + <usize>(ix * axisStride);
      if (isF) store<f32>(p, load<f32>(p) + load<f32>(ps));
      else store<i32>(p, load<i32>(p) + load<i32>(ps));
      po += <usize>t0; pi += <usize>t1; ps += <usize>t2;
    }
    odoNext(d, 3);
  }
  return 0;
}

export function gather_f32(d: usize, axisStride: i32, axisSize: i32): i32 { return gather32(d, axisStride, axisSize); }
export function gather_i32(d: usize, axisStride: i32, axisSize: i32): i32 { return gather32(d, axisStride, axisSize); }
export function scatter_add_f32(d: usize, axisStride: i32, axisSize: i32): i32 { return scatterAdd32(true, d, axisStride, axisSize); }
export function scatter_add_i32(d: usize, axisStride: i32, axisSize: i32): i32 { return scatterAdd32(false, d, axisStride, axisSize); }
