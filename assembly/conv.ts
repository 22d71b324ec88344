/**
 * @module conv — im2col (torch's unfold, with a pad value) and col2im (fold, its adjoint)
 * over `planes = N·C` contiguous f32 images `[H, W]` and columns `[kH·kW, oH, oW]` per plane.
 *
 * `im2col_f32(x, out, planes, h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, padValue)`;
 * `col2im_f32(cols, out, planes, h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw)`.
 * Each output row (fixed plane, ki, kj, oh) splits into a padded left part, the valid
 * middle and a padded right part; the middle is an f32x4 main loop with a scalar tail
 * when stride W is 1 (contiguous) or 2 (two loads and an even-lane shuffle), and scalar
 * otherwise. col2im adds the columns into the zeroed image in the columns' row-major
 * order, so every image element sums its contributions in the reference's order.
 */

/** out[0..n) = v. */
// @ts-ignore: decorator
@inline function fillRow(p: usize, n: i32, v: v128): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(p + (<usize>i << 2), v);
  for (; i < n; i++) v128.store32_lane(p + (<usize>i << 2), v, 0);
}

/** First output column whose input column `ow·sw + off` is >= 0. */
// @ts-ignore: decorator
@inline function validLo(off: i32, sw: i32, ow: i32): i32 {
  const lo = off >= 0 ? 0 : (sw - 1 - off) / sw;
  return lo < ow ? lo : ow;
}

/** One past the last output column whose input column `ow·sw + off` is < w. */
// @ts-ignore: decorator
@inline function validHi(off: i32, sw: i32, ow: i32, w: i32, lo: i32): i32 {
  let hi = off > w - 1 ? 0 : (w - 1 - off) / sw + 1;
  if (hi > ow) hi = ow;
  return hi < lo ? lo : hi;
}

export function im2col_f32(
  x: usize, out: usize, planes: i32, h: i32, w: i32, oh: i32, ow: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, dh: i32, dw: i32, padValue: f32,
): void {
  const pad = f32x4.splat(padValue);
  const rowBytes = <usize>ow << 2;
  let o = out;
  for (let p = 0; p < planes; p++) {
    const xp = x + ((<usize>p * <usize>h * <usize>w) << 2);
    for (let ki = 0; ki < kh; ki++) {
      for (let kj = 0; kj < kw; kj++) {
        const off = kj * dw - pw;
        const lo = validLo(off, sw, ow);
        const hi = validHi(off, sw, ow, w, lo);
        for (let y = 0; y < oh; y++, o += rowBytes) {
          const ih = y * sh - ph + ki * dh;
          if (ih < 0 || ih >= h) {
            fillRow(o, ow, pad);
            continue;
          }
          fillRow(o, lo, pad);
          const src = xp + (<usize>(ih * w) << 2);
          let j = lo;
          if (sw == 1) {
            for (; j + 4 <= hi; j += 4) v128.store(o + (<usize>j << 2), v128.load(src + (<usize>(j + off) << 2)));
          } else if (sw == 2) {
            // Inputs 2j+off .. 2j+off+7 must lie in the row: 2j + off + 8 <= w.
            for (; j + 4 <= hi && 2 * j + off + 8 <= w; j += 4) {
              const s = src + (<usize>(2 * j + off) << 2);
              v128.store(o + (<usize>j << 2), v128.shuffle<i32>(v128.load(s), v128.load(s + 16), 0, 2, 4, 6));
            }
          }
          for (; j < hi; j++) store<f32>(o + (<usize>j << 2), load<f32>(src + (<usize>(j * sw + off) << 2)));
          fillRow(o + (<usize>hi << 2), ow - hi, pad);
        }
      }
    }
  }
}

export function col2im_f32(
  cols: usize, out: usize, planes: i32, h: i32, w: i32, oh: i32, ow: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, dh: i32, dw: i32,
): void {
  memory.fill(out, 0, (<usize>planes * <usize>h * <usize>w) << 2);
  const rowBytes = <usize>ow << 2;
  let c = cols;
  for (let p = 0; p < planes; p++) {
    const xp = out + ((<usize>p * <usize>h * <usize>w) << 2);
    for (let ki = 0; ki < kh; ki++) {
      for (let kj = 0; kj < kw; kj++) {
        const off = kj * dw - pw;
        const lo = validLo(off, sw, ow);
        const hi = validHi(off, sw, ow, w, lo);
        for (let y = 0; y < oh; y++, c += rowBytes) {
          const ih = y * sh - ph + ki * dh;
          if (ih < 0 || ih >= h) continue;
          const dst = xp + (<usize>(ih * w) << 2);
          let j = lo;
          if (sw == 1) {
            for (; j + 4 <= hi; j += 4) {
              const d = dst + (<usize>(j + off) << 2);
              v128.store(d, f32x4.add(v128.load(d), v128.load(c + (<usize>j << 2))));
            }
          }
          for (; j < hi; j++) {
            const d = dst + (<usize>(j * sw + off) << 2);
            store<f32>(d, load<f32>(d) + load<f32>(c + (<usize>j << 2)));
          }
        }
      }
    }
  }
}
