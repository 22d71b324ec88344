/**
 * @module matmul — batched f32 GEMM: C[b] = op(A[b]) @ op(B[b]) (+ bias).
 *
 * GotoBLAS-style blocking (NC x KC panels of B, MC x KC blocks of A), both packed
 * so the 4x8 register-tiled micro-kernel (8 f32x4 accumulators) sees one layout
 * whatever the input strides: A panels are [k][4 rows], B panels are [k][8 cols].
 * Row-major and transposed inputs pack with v128 loads (4x4 transposes where
 * needed); any other stride pattern packs element by element.
 * The relaxed build uses f32x4.relaxed_madd (FMA) in the micro-kernel.
 *
 * Descriptor (i32 words at d; strides in bytes):
 *   0 B, 1 M, 2 N, 3 K, 4 a, 5 aBatch, 6 aRow, 7 aCol, 8 b, 9 bBatch, 10 bRow, 11 bCol,
 *   12 c (contiguous [B, M, N]), 13 bias (0 = none), 14 workspace (matmul_workspace_bytes()).
 */
import { madd } from './common';

const MR: i32 = 4;
const NR: i32 = 8;
const KC: i32 = 256;
const MC: i32 = 64;
const NC: i32 = 512;
/** Up to this K, row-major B skips packing (see directB). */
const DIRECT_K: i32 = 8;

/** Bytes of scratch the host must pass as word 14 of the descriptor. */
export function matmul_workspace_bytes(): i32 {
  return (MC * KC + KC * NC + MR * NR) * 4;
}

// @ts-ignore: decorator
@inline function transpose4(dst: usize, dstStride: usize, r0: v128, r1: v128, r2: v128, r3: v128): void {
  const t0 = v128.shuffle<i32>(r0, r1, 0, 4, 1, 5);
  const t1 = v128.shuffle<i32>(r2, r3, 0, 4, 1, 5);
  const t2 = v128.shuffle<i32>(r0, r1, 2, 6, 3, 7);
  const t3 = v128.shuffle<i32>(r2, r3, 2, 6, 3, 7);
  v128.store(dst, v128.shuffle<i32>(t0, t1, 0, 1, 4, 5));
  v128.store(dst + dstStride, v128.shuffle<i32>(t0, t1, 2, 3, 6, 7));
  v128.store(dst + 2 * dstStride, v128.shuffle<i32>(t2, t3, 0, 1, 4, 5));
  v128.store(dst + 3 * dstStride, v128.shuffle<i32>(t2, t3, 2, 3, 6, 7));
}

/** Packs rows [0, mc) x cols [0, kc) of A (at src) into MR-row panels laid out [k][MR]. */
function packA(src: usize, rs: i32, cs: i32, mc: i32, kc: i32, dst: usize): void {
  for (let ip = 0; ip < mc; ip += MR) {
    const h = min(MR, mc - ip);
    const panel = dst + (<usize>(ip * kc) << 2);
    const s = src + <usize>(ip * rs);
    if (h == MR && rs == 4) {
      for (let k = 0; k < kc; k++) v128.store(panel + (<usize>k << 4), v128.load(s + <usize>(k * cs)));
    } else if (h == MR && cs == 4) {
      let k = 0;
      for (; k + 4 <= kc; k += 4) {
        const p = s + (<usize>k << 2);
        transpose4(panel + (<usize>k << 4), 16,
          v128.load(p), v128.load(p + <usize>rs), v128.load(p + <usize>(2 * rs)), v128.load(p + <usize>(3 * rs)));
      }
      for (; k < kc; k++) {
        for (let r = 0; r < MR; r++) store<f32>(panel + (<usize>(k * MR + r) << 2), load<f32>(s + <usize>(r * rs + k * cs)));
      }
    } else {
      for (let k = 0; k < kc; k++) {
        for (let r = 0; r < MR; r++) {
          store<f32>(panel + (<usize>(k * MR + r) << 2), r < h ? load<f32>(s + <usize>(r * rs + k * cs)) : 0);
        }
      }
    }
  }
}

/** Packs rows [0, kc) x cols [0, nc) of B (at src) into NR-column panels laid out [k][NR]. */
function packB(src: usize, rs: i32, cs: i32, kc: i32, nc: i32, dst: usize): void {
  for (let jp = 0; jp < nc; jp += NR) {
    const w = min(NR, nc - jp);
    const panel = dst + (<usize>(jp * kc) << 2);
    const s = src + <usize>(jp * cs);
    if (w == NR && cs == 4) {
      for (let k = 0; k < kc; k++) {
        const p = s + <usize>(k * rs);
        const q = panel + (<usize>k << 5);
        v128.store(q, v128.load(p));
        v128.store(q, v128.load(p, 16), 16);
      }
    } else if (w == NR && rs == 4) {
      let k = 0;
      for (; k + 4 <= kc; k += 4) {
        const p = s + (<usize>k << 2);
        const q = panel + (<usize>k << 5);
        transpose4(q, 32, v128.load(p), v128.load(p + <usize>cs), v128.load(p + <usize>(2 * cs)), v128.load(p + <usize>(3 * cs)));
        const p4 = p + <usize>(4 * cs);
        transpose4(q + 16, 32, v128.load(p4), v128.load(p4 + <usize>cs), v128.load(p4 + <usize>(2 * cs)), v128.load(p4 + <usize>(3 * cs)));
      }
      for (; k < kc; k++) {
        for (let c = 0; c < NR; c++) store<f32>(panel + (<usize>(k * NR + c) << 2), load<f32>(s + <usize>(k * rs + c * cs)));
      }
    } else {
      for (let k = 0; k < kc; k++) {
        for (let c = 0; c < NR; c++) {
          store<f32>(panel + (<usize>(k * NR + c) << 2), c < w ? load<f32>(s + <usize>(k * rs + c * cs)) : 0);
        }
      }
    }
  }
}

/**
 * The 4x8 micro-kernel over kc packed steps. `first`: C = acc (+ bias), else C += acc.
 * Partial tiles (mr < 4 or nr < 8) go through `tile` and are copied out element-wise.
 */
function micro(pa: usize, pb: usize, kc: i32, c: usize, ldc: usize, first: bool, bias: usize, mr: i32, nr: i32, tile: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  if (ASC_FEATURE_RELAXED_SIMD) {
    // FMA build: one v128 load of A and lane shuffles; the shuffles issue on an FP
    // pipe the FMAs do not use.
    for (let k = 0; k < kc; k++) {
      const b0 = v128.load(pb), b1 = v128.load(pb, 16);
      const av = v128.load(pa);
      let a = v128.shuffle<f32>(av, av, 0, 0, 0, 0);
      c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
      a = v128.shuffle<f32>(av, av, 1, 1, 1, 1);
      c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
      a = v128.shuffle<f32>(av, av, 2, 2, 2, 2);
      c20 = madd(a, b0, c20); c21 = madd(a, b1, c21);
      a = v128.shuffle<f32>(av, av, 3, 3, 3, 3);
      c30 = madd(a, b0, c30); c31 = madd(a, b1, c31);
      pa += 16; pb += 32;
    }
  } else {
    // mul+add build: load32_splat puts each A value in all lanes on a load port
    // (vbroadcastss), leaving all four FP pipes to the multiplies and adds.
    for (let k = 0; k < kc; k++) {
      const b0 = v128.load(pb), b1 = v128.load(pb, 16);
      let a = v128.load32_splat(pa);
      c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
      a = v128.load32_splat(pa, 4);
      c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
      a = v128.load32_splat(pa, 8);
      c20 = madd(a, b0, c20); c21 = madd(a, b1, c21);
      a = v128.load32_splat(pa, 12);
      c30 = madd(a, b0, c30); c31 = madd(a, b1, c31);
      pa += 16; pb += 32;
    }
  }
  if (mr == MR && nr == NR) {
    let e0: v128, e1: v128, e2: v128, e3: v128, e4: v128, e5: v128, e6: v128, e7: v128;
    if (first) {
      if (bias != 0) {
        e0 = v128.load(bias); e1 = v128.load(bias, 16);
      } else {
        e0 = f32x4.splat(0); e1 = f32x4.splat(0);
      }
      e2 = e0; e3 = e1; e4 = e0; e5 = e1; e6 = e0; e7 = e1;
    } else {
      e0 = v128.load(c); e1 = v128.load(c, 16);
      e2 = v128.load(c + ldc); e3 = v128.load(c + ldc, 16);
      e4 = v128.load(c + 2 * ldc); e5 = v128.load(c + 2 * ldc, 16);
      e6 = v128.load(c + 3 * ldc); e7 = v128.load(c + 3 * ldc, 16);
    }
    v128.store(c, f32x4.add(e0, c00)); v128.store(c, f32x4.add(e1, c01), 16);
    v128.store(c + ldc, f32x4.add(e2, c10)); v128.store(c + ldc, f32x4.add(e3, c11), 16);
    v128.store(c + 2 * ldc, f32x4.add(e4, c20)); v128.store(c + 2 * ldc, f32x4.add(e5, c21), 16);
    v128.store(c + 3 * ldc, f32x4.add(e6, c30)); v128.store(c + 3 * ldc, f32x4.add(e7, c31), 16);
    return;
  }
  v128.store(tile, c00); v128.store(tile, c01, 16);
  v128.store(tile, c10, 32); v128.store(tile, c11, 48);
  v128.store(tile, c20, 64); v128.store(tile, c21, 80);
  v128.store(tile, c30, 96); v128.store(tile, c31, 112);
  for (let r = 0; r < mr; r++) {
    for (let j = 0; j < nr; j++) {
      const p = c + <usize>r * ldc + (<usize>j << 2);
      const acc = load<f32>(tile + (<usize>(r * NR + j) << 2));
      const base: f32 = first ? (bias != 0 ? load<f32>(bias + (<usize>j << 2)) : 0) : load<f32>(p);
      store<f32>(p, base + acc);
    }
  }
}

/**
 * Row-major B without packing, for few rows (M < 4: batch-1 steps) or a short K
 * (gradient GEMMs of small batches), where packing would cost as much as the math.
 * A is read through its strides (any layout). Tiles of up to 4 rows x 8 columns keep
 * 8 accumulators in flight; leftover columns go one at a time.
 */
function directB(A: usize, aRs: i32, aCs: i32, Bm: usize, bRs: i32, C: usize, ldc: usize, bias: usize, M: i32, N: i32, K: i32): void {
  if (M == 1) {
    rowTimesB(A, aCs, Bm, bRs, C, bias, N, K);
    return;
  }
  for (let i = 0; i < M; i += MR) {
    const mr = min(MR, M - i);
    // Rows past M re-read row i (in bounds); their results are not stored.
    const a0 = A + <usize>(i * aRs);
    const a1 = mr > 1 ? a0 + <usize>aRs : a0;
    const a2 = mr > 2 ? a1 + <usize>aRs : a0;
    const a3 = mr > 3 ? a2 + <usize>aRs : a0;
    const c0 = C + <usize>i * ldc;
    let j = 0;
    for (; j + NR <= N; j += NR) {
      const jo = <usize>j << 2;
      let z0 = f32x4.splat(0), z1 = f32x4.splat(0);
      if (bias != 0) { z0 = v128.load(bias + jo); z1 = v128.load(bias + jo, 16); }
      let c00 = z0, c01 = z1, c10 = z0, c11 = z1, c20 = z0, c21 = z1, c30 = z0, c31 = z1;
      let pb = Bm + jo;
      let ka: usize = 0;
      for (let k = 0; k < K; k++) {
        const b0 = v128.load(pb), b1 = v128.load(pb, 16);
        let a = v128.load32_splat(a0 + ka);
        c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
        a = v128.load32_splat(a1 + ka);
        c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
        a = v128.load32_splat(a2 + ka);
        c20 = madd(a, b0, c20); c21 = madd(a, b1, c21);
        a = v128.load32_splat(a3 + ka);
        c30 = madd(a, b0, c30); c31 = madd(a, b1, c31);
        pb += <usize>bRs; ka += <usize>aCs;
      }
      const p = c0 + jo;
      v128.store(p, c00); v128.store(p, c01, 16);
      if (mr > 1) { v128.store(p + ldc, c10); v128.store(p + ldc, c11, 16); }
      if (mr > 2) { v128.store(p + 2 * ldc, c20); v128.store(p + 2 * ldc, c21, 16); }
      if (mr > 3) { v128.store(p + 3 * ldc, c30); v128.store(p + 3 * ldc, c31, 16); }
    }
    for (; j < N; j++) {
      const jo = <usize>j << 2;
      for (let r = 0; r < mr; r++) {
        const ar = a0 + <usize>(r * aRs);
        let c = f32x4.splat(bias != 0 ? load<f32>(bias + jo) : 0);
        let pb = Bm + jo;
        let ka: usize = 0;
        for (let k = 0; k < K; k++) {
          c = madd(v128.load32_splat(ar + ka), v128.load32_splat(pb), c);
          pb += <usize>bRs; ka += <usize>aCs;
        }
        v128.store32_lane(c0 + <usize>r * ldc + jo, c, 0);
      }
    }
  }
}

/** One row times row-major B (a batch-1 step): 32 columns per pass keep 8 accumulators in flight. */
function rowTimesB(A: usize, aCs: i32, Bm: usize, bRs: i32, C: usize, bias: usize, N: i32, K: i32): void {
  let j = 0;
  for (; j + 32 <= N; j += 32) {
    const jo = <usize>j << 2;
    let c0 = f32x4.splat(0), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
    if (bias != 0) {
      c0 = v128.load(bias + jo); c1 = v128.load(bias + jo, 16); c2 = v128.load(bias + jo, 32); c3 = v128.load(bias + jo, 48);
      c4 = v128.load(bias + jo, 64); c5 = v128.load(bias + jo, 80); c6 = v128.load(bias + jo, 96); c7 = v128.load(bias + jo, 112);
    }
    let pb = Bm + jo;
    let pa = A;
    for (let k = 0; k < K; k++) {
      const a = v128.load32_splat(pa);
      c0 = madd(a, v128.load(pb), c0); c1 = madd(a, v128.load(pb, 16), c1);
      c2 = madd(a, v128.load(pb, 32), c2); c3 = madd(a, v128.load(pb, 48), c3);
      c4 = madd(a, v128.load(pb, 64), c4); c5 = madd(a, v128.load(pb, 80), c5);
      c6 = madd(a, v128.load(pb, 96), c6); c7 = madd(a, v128.load(pb, 112), c7);
      pb += <usize>bRs; pa += <usize>aCs;
    }
    const p = C + jo;
    v128.store(p, c0); v128.store(p, c1, 16); v128.store(p, c2, 32); v128.store(p, c3, 48);
    v128.store(p, c4, 64); v128.store(p, c5, 80); v128.store(p, c6, 96); v128.store(p, c7, 112);
  }
  for (; j + 4 <= N; j += 4) {
    const jo = <usize>j << 2;
    let c0 = bias != 0 ? v128.load(bias + jo) : f32x4.splat(0);
    let pb = Bm + jo;
    let pa = A;
    for (let k = 0; k < K; k++) {
      c0 = madd(v128.load32_splat(pa), v128.load(pb), c0);
      pb += <usize>bRs; pa += <usize>aCs;
    }
    v128.store(C + jo, c0);
  }
  for (; j < N; j++) {
    const jo = <usize>j << 2;
    let c = f32x4.splat(bias != 0 ? load<f32>(bias + jo) : 0);
    let pb = Bm + jo;
    let pa = A;
    for (let k = 0; k < K; k++) {
      c = madd(v128.load32_splat(pa), v128.load32_splat(pb), c);
      pb += <usize>bRs; pa += <usize>aCs;
    }
    v128.store32_lane(C + jo, c, 0);
  }
}

/** [sum(a), sum(b), sum(c), sum(d)]: four horizontal sums by a transpose-add. */
// @ts-ignore: decorator
@inline function hsum4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = f32x4.add(v128.shuffle<f32>(a, b, 0, 1, 4, 5), v128.shuffle<f32>(a, b, 2, 3, 6, 7));
  const cd = f32x4.add(v128.shuffle<f32>(c, d, 0, 1, 4, 5), v128.shuffle<f32>(c, d, 2, 3, 6, 7));
  return f32x4.add(v128.shuffle<f32>(ab, cd, 0, 2, 4, 6), v128.shuffle<f32>(ab, cd, 1, 3, 5, 7));
}

/** Sum of the 4 lanes, in a fixed order. */
// @ts-ignore: decorator
@inline function hsum(v: v128): f32 {
  const s = f32x4.add(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  return f32x4.extract_lane(f32x4.add(s, v128.shuffle<f32>(s, s, 1, 0, 3, 2)), 0);
}

/**
 * Few rows with k-contiguous A rows and transposed B (x @ W^T with W [N, K]):
 * dot products over k, 4 output columns at a time, without packing.
 */
function rowsDotBt(A: usize, aRs: i32, Bm: usize, bCs: i32, C: usize, ldc: usize, bias: usize, M: i32, N: i32, K: i32): void {
  const k4 = K & ~3;
  for (let i = 0; i < M; i++) {
    const arow = A + <usize>(i * aRs);
    const crow = C + <usize>i * ldc;
    let j = 0;
    for (; j + 8 <= N; j += 8) {
      const b0 = Bm + <usize>(j * bCs);
      const b1 = b0 + <usize>bCs, b2 = b1 + <usize>bCs, b3 = b2 + <usize>bCs;
      const b4 = b3 + <usize>bCs, b5 = b4 + <usize>bCs, b6 = b5 + <usize>bCs, b7 = b6 + <usize>bCs;
      let s0 = f32x4.splat(0), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
      for (let k = 0; k < k4; k += 4) {
        const o = <usize>k << 2;
        const a = v128.load(arow + o);
        s0 = madd(a, v128.load(b0 + o), s0); s1 = madd(a, v128.load(b1 + o), s1);
        s2 = madd(a, v128.load(b2 + o), s2); s3 = madd(a, v128.load(b3 + o), s3);
        s4 = madd(a, v128.load(b4 + o), s4); s5 = madd(a, v128.load(b5 + o), s5);
        s6 = madd(a, v128.load(b6 + o), s6); s7 = madd(a, v128.load(b7 + o), s7);
      }
      // Lane sums of 4 columns at once: transpose-add so each output lane is one column.
      let r03 = hsum4(s0, s1, s2, s3), r47 = hsum4(s4, s5, s6, s7);
      for (let k = k4; k < K; k++) {
        const o = <usize>k << 2;
        const a = v128.load32_splat(arow + o);
        let t = f32x4.replace_lane(f32x4.splat(load<f32>(b0 + o)), 1, load<f32>(b1 + o));
        t = f32x4.replace_lane(f32x4.replace_lane(t, 2, load<f32>(b2 + o)), 3, load<f32>(b3 + o));
        r03 = madd(a, t, r03);
        let u = f32x4.replace_lane(f32x4.splat(load<f32>(b4 + o)), 1, load<f32>(b5 + o));
        u = f32x4.replace_lane(f32x4.replace_lane(u, 2, load<f32>(b6 + o)), 3, load<f32>(b7 + o));
        r47 = madd(a, u, r47);
      }
      const jo = <usize>j << 2;
      if (bias != 0) { r03 = f32x4.add(r03, v128.load(bias + jo)); r47 = f32x4.add(r47, v128.load(bias + jo, 16)); }
      v128.store(crow + jo, r03);
      v128.store(crow + jo, r47, 16);
    }
    for (; j + 4 <= N; j += 4) {
      const b0 = Bm + <usize>(j * bCs);
      const b1 = b0 + <usize>bCs, b2 = b1 + <usize>bCs, b3 = b2 + <usize>bCs;
      let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
      for (let k = 0; k < k4; k += 4) {
        const o = <usize>k << 2;
        const a = v128.load(arow + o);
        s0 = madd(a, v128.load(b0 + o), s0);
        s1 = madd(a, v128.load(b1 + o), s1);
        s2 = madd(a, v128.load(b2 + o), s2);
        s3 = madd(a, v128.load(b3 + o), s3);
      }
      let r0 = hsum(s0), r1 = hsum(s1), r2 = hsum(s2), r3 = hsum(s3);
      for (let k = k4; k < K; k++) {
        const o = <usize>k << 2;
        const a = load<f32>(arow + o);
        r0 += a * load<f32>(b0 + o); r1 += a * load<f32>(b1 + o);
        r2 += a * load<f32>(b2 + o); r3 += a * load<f32>(b3 + o);
      }
      if (bias != 0) {
        r0 += load<f32>(bias + (<usize>j << 2)); r1 += load<f32>(bias + (<usize>(j + 1) << 2));
        r2 += load<f32>(bias + (<usize>(j + 2) << 2)); r3 += load<f32>(bias + (<usize>(j + 3) << 2));
      }
      store<f32>(crow + (<usize>j << 2), r0); store<f32>(crow + (<usize>(j + 1) << 2), r1);
      store<f32>(crow + (<usize>(j + 2) << 2), r2); store<f32>(crow + (<usize>(j + 3) << 2), r3);
    }
    for (; j < N; j++) {
      const b0 = Bm + <usize>(j * bCs);
      let s0 = f32x4.splat(0);
      for (let k = 0; k < k4; k += 4) s0 = madd(v128.load(arow + (<usize>k << 2)), v128.load(b0 + (<usize>k << 2)), s0);
      let r0 = hsum(s0);
      for (let k = k4; k < K; k++) r0 += load<f32>(arow + (<usize>k << 2)) * load<f32>(b0 + (<usize>k << 2));
      if (bias != 0) r0 += load<f32>(bias + (<usize>j << 2));
      store<f32>(crow + (<usize>j << 2), r0);
    }
  }
}

/** The block size <= cap that splits n into equal blocks, rounded up to a multiple of `unit`. */
function evenStep(n: i32, cap: i32, unit: i32): i32 {
  const blocks = (n + cap - 1) / cap;
  const step = (n + blocks - 1) / max(blocks, 1);
  return min(cap, (step + unit - 1) / unit * unit);
}

export function matmul_f32(d: usize): void {
  const B = load<i32>(d), M = load<i32>(d, 4), N = load<i32>(d, 8), K = load<i32>(d, 12);
  const a0 = load<usize>(d, 16), aBs = load<i32>(d, 20), aRs = load<i32>(d, 24), aCs = load<i32>(d, 28);
  const b0 = load<usize>(d, 32), bBs = load<i32>(d, 36), bRs = load<i32>(d, 40), bCs = load<i32>(d, 44);
  const c0 = load<usize>(d, 48), bias = load<usize>(d, 52), ws = load<usize>(d, 56);
  const packedA = ws;
  const packedB = ws + (<usize>(MC * KC) << 2);
  const tile = packedB + (<usize>(KC * NC) << 2);
  const ldc = <usize>N << 2;
  for (let bi = 0; bi < B; bi++) {
    const A = a0 + <usize>(bi * aBs);
    const Bm = b0 + <usize>(bi * bBs);
    const C = c0 + <usize>bi * <usize>M * ldc;
    if (bCs == 4 && (M < MR || K <= DIRECT_K)) {
      directB(A, aRs, aCs, Bm, bRs, C, ldc, bias, M, N, K);
      continue;
    }
    if (M < MR && K > 0 && bRs == 4 && aCs == 4) {
      rowsDotBt(A, aRs, Bm, bCs, C, ldc, bias, M, N, K);
      continue;
    }
    if (K == 0) {
      for (let i = 0; i < M; i++) {
        for (let j = 0; j < N; j++) {
          store<f32>(C + <usize>i * ldc + (<usize>j << 2), bias != 0 ? load<f32>(bias + (<usize>j << 2)) : 0);
        }
      }
      continue;
    }
    // Blocks of equal size (K = 784 runs as 4 x 196, not 256 + 256 + 256 + 16).
    const ncStep = evenStep(N, NC, NR), kcStep = evenStep(K, KC, 1), mcStep = evenStep(M, MC, MR);
    for (let jc = 0; jc < N; jc += ncStep) {
      const nc = min(ncStep, N - jc);
      for (let pc = 0; pc < K; pc += kcStep) {
        const kc = min(kcStep, K - pc);
        packB(Bm + <usize>(pc * bRs + jc * bCs), bRs, bCs, kc, nc, packedB);
        for (let ic = 0; ic < M; ic += mcStep) {
          const mc = min(mcStep, M - ic);
          packA(A + <usize>(ic * aRs + pc * aCs), aRs, aCs, mc, kc, packedA);
          for (let jr = 0; jr < nc; jr += NR) {
            const nr = min(NR, nc - jr);
            const pb = packedB + (<usize>(jr * kc) << 2);
            const bb = bias != 0 ? bias + (<usize>(jc + jr) << 2) : 0;
            for (let ir = 0; ir < mc; ir += MR) {
              const mr = min(MR, mc - ir);
              micro(packedA + (<usize>(ir * kc) << 2), pb, kc,
                C + <usize>(ic + ir) * ldc + (<usize>(jc + jr) << 2), ldc, pc == 0, bb, mr, nr, tile);
            }
          }
        }
      }
    }
  }
}
