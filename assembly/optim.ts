/**
 * @module optim — the fused Adam/AdamW step over many parameters in one call (a
 * multi-tensor apply), in place over contiguous f32 runs:
 * `adam_f32(table, count, flags, decay, wd, b1, c1, b2, c2, negStep, bc2Sqrt, eps)`.
 * `table` holds `count` entries of six u32 words, `[n, param, grad, expAvg, expAvgSq, maxExpAvgSq]`
 * (byte addresses; maxExpAvgSq is read only with amsgrad); each entry's runs have n elements.
 * flags: 1 maximize, 2 decoupled (AdamW), 4 amsgrad, 8 L2 (Adam with weight decay != 0).
 * The scalars come already rounded to f32 (decay = 1 − lr·wd, c1 = 1 − β1, c2 = 1 − β2,
 * negStep = −lr/(1 − β1^t), bc2Sqrt = sqrt(1 − β2^t), formed in float64 by the host).
 * Each element follows ops.ts's order with one f32 rounding per operation (plain mul/add,
 * never FMA, in both builds), so it equals torch's sequence of float32 tensor ops, except
 * that subnormal m and v are flushed to zero (see flushSubnormal).
 * Per entry, an f32x4 main loop; the scalar tail runs the same code on lane 0.
 */

const MAXIMIZE: i32 = 1, DECOUPLED: i32 = 2, AMSGRAD: i32 = 4, L2: i32 = 8;

/**
 * Lanes of magnitude below 2^-126 (subnormal) become a zero of the same sign. A gradient that
 * stays 0 (the weights of an always-black pixel) decays m by β1 every step into subnormals
 * within ~800 steps, and x86 then runs the f32x4 multiplies on a microcode assist: the whole
 * update took 2.5× as long. ops.ts's AdamAttrs states the flush.
 */
// @ts-ignore: decorator
@inline function flushSubnormal(x: v128): v128 {
  const tiny = f32x4.lt(f32x4.abs(x), f32x4.splat(1.17549435e-38));
  return v128.bitselect(v128.and(x, i32x4.splat(0x80000000)), x, tiny);
}

// @ts-ignore: decorator
@inline function step4(
  lanes: i32, off: usize, pp: usize, g: usize, m: usize, v: usize, vmax: usize, flags: i32,
  decay: v128, wd: v128, b1: v128, c1: v128, b2: v128, c2: v128, negStep: v128, bc2: v128, eps: v128,
): void {
  let gr = lanes == 4 ? v128.load(g + off) : v128.load32_splat(g + off);
  let p = lanes == 4 ? v128.load(pp + off) : v128.load32_splat(pp + off);
  if (flags & MAXIMIZE) gr = f32x4.neg(gr);
  if (flags & DECOUPLED) p = f32x4.mul(p, decay);
  else if (flags & L2) gr = f32x4.add(gr, f32x4.mul(wd, p));
  let mm = lanes == 4 ? v128.load(m + off) : v128.load32_splat(m + off);
  let vv = lanes == 4 ? v128.load(v + off) : v128.load32_splat(v + off);
  mm = flushSubnormal(f32x4.add(f32x4.mul(mm, b1), f32x4.mul(gr, c1)));
  vv = flushSubnormal(f32x4.add(f32x4.mul(vv, b2), f32x4.mul(f32x4.mul(gr, c2), gr)));
  let second = vv;
  if (flags & AMSGRAD) {
    const prev = lanes == 4 ? v128.load(vmax + off) : v128.load32_splat(vmax + off);
    // NaN-propagating max, as torch.maximum (f32x4.max propagates NaN).
    second = f32x4.max(prev, vv);
    if (lanes == 4) v128.store(vmax + off, second);
    else v128.store32_lane(vmax + off, second, 0);
  }
  const denom = f32x4.add(f32x4.div(f32x4.sqrt(second), bc2), eps);
  p = f32x4.add(p, f32x4.div(f32x4.mul(negStep, mm), denom));
  if (lanes == 4) {
    v128.store(m + off, mm);
    v128.store(v + off, vv);
    v128.store(pp + off, p);
  } else {
    v128.store32_lane(m + off, mm, 0);
    v128.store32_lane(v + off, vv, 0);
    v128.store32_lane(pp + off, p, 0);
  }
}

export function adam_f32(
  table: usize, count: i32, flags: i32,
  decay: f32, wd: f32, b1: f32, c1: f32, b2: f32, c2: f32, negStep: f32, bc2Sqrt: f32, eps: f32,
): void {
  const vDecay = f32x4.splat(decay), vWd = f32x4.splat(wd), vB1 = f32x4.splat(b1), vC1 = f32x4.splat(c1);
  const vB2 = f32x4.splat(b2), vC2 = f32x4.splat(c2), vStep = f32x4.splat(negStep), vBc2 = f32x4.splat(bc2Sqrt), vEps = f32x4.splat(eps);
  for (let e = 0; e < count; e++) {
    const row = table + (<usize>e) * 24;
    const n = load<i32>(row);
    const p = <usize>load<u32>(row, 4), g = <usize>load<u32>(row, 8), m = <usize>load<u32>(row, 12);
    const v = <usize>load<u32>(row, 16), vmax = <usize>load<u32>(row, 20);
    let i = 0;
    for (; i + 4 <= n; i += 4) step4(4, <usize>i << 2, p, g, m, v, vmax, flags, vDecay, vWd, vB1, vC1, vB2, vC2, vStep, vBc2, vEps);
    for (; i < n; i++) step4(1, <usize>i << 2, p, g, m, v, vmax, flags, vDecay, vWd, vB1, vC1, vB2, vC2, vStep, vBc2, vEps);
  }
}
