/**
 * @module movement — copy of strided views, dtype casts, and fill.
 * `cast_<from>_<to>(desc)`: float -> int truncates toward zero and saturates at the int32
 * range (NaN -> 0), as the reference backend defines it,
 * anything -> bool is `!= 0`.
 */
import { ew, F2I, I2F, F2B, I2B, B2F, B2I, COPY } from './elementwise';

export function copy_f32(d: usize): void { ew(COPY, 1, 4, 4, 4, 4, d, 0, 0, 0); }
export function copy_i32(d: usize): void { ew(COPY, 1, 4, 4, 4, 4, d, 0, 0, 0); }
export function copy_bool(d: usize): void { ew(COPY, 1, 1, 1, 1, 1, d, 0, 0, 0); }
export function cast_f32_i32(d: usize): void { ew(F2I, 1, 4, 4, 4, 4, d, 0, 0, 0); }
export function cast_i32_f32(d: usize): void { ew(I2F, 1, 4, 4, 4, 4, d, 0, 0, 0); }
export function cast_f32_bool(d: usize): void { ew(F2B, 1, 1, 4, 4, 4, d, 0, 0, 0); }
export function cast_i32_bool(d: usize): void { ew(I2B, 1, 1, 4, 4, 4, d, 0, 0, 0); }
export function cast_bool_f32(d: usize): void { ew(B2F, 1, 4, 1, 1, 1, d, 0, 0, 0); }
export function cast_bool_i32(d: usize): void { ew(B2I, 1, 4, 1, 1, 1, d, 0, 0, 0); }

/** out[0..n) = value (32-bit lanes). */
function fill32(p: usize, n: i32, v: v128): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) { v128.store(p, v); p += 16; }
  for (; i < n; i++) { v128.store32_lane(p, v, 0); p += 4; }
}
export function fill_f32(p: usize, n: i32, value: f32): void { fill32(p, n, f32x4.splat(value)); }
export function fill_i32(p: usize, n: i32, value: i32): void { fill32(p, n, i32x4.splat(value)); }
export function fill_bool(p: usize, n: i32, value: i32): void { memory.fill(p, <u8>(value != 0 ? 1 : 0), <usize>n); }
