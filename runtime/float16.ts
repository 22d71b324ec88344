/**
 * @module float16 — IEEE 754 half precision and bfloat16: bits to numbers and back.
 *
 * Encoding rounds to nearest, ties to even, from the number's exact value (a float32
 * value is a float64 value, so rounding a float32 is one rounding, as torch's
 * `.half()` / `.bfloat16()` do). Overflow gives ±Infinity, NaN stays NaN, and values
 * below the smallest normal become subnormals (or a signed zero).
 */

/**
 * The value of a float16 bit pattern (subnormals, infinities and NaN included).
 * @example halfToNumber(0x3c00) // 1
 */
export function halfToNumber(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m === 0 ? s * Infinity : NaN;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/**
 * The value of a bfloat16 bit pattern (the top 16 bits of a float32).
 * @example bfloat16ToNumber(0x3f80) // 1
 */
export function bfloat16ToNumber(h: number): number {
  F32_BITS[0] = (h & 0xffff) << 16;
  return F32[0]!;
}

const F32 = new Float32Array(1);
const F32_BITS = new Uint32Array(F32.buffer);

/** Rounds a non-negative v to an integer, ties to even (exact for v < 2^52). */
function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** floor(log2(a)) for a finite a > 0, exact (Math.log2 may be off by one near powers of two). */
function exponentOf(a: number): number {
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  return e;
}

/**
 * Bits of a format with `mant` stored mantissa bits and exponent bias `bias`, rounded to
 * nearest even from `x`; `maxExp` is the largest finite exponent.
 */
function encode(x: number, mant: number, bias: number, maxExp: number, nanBits: number): number {
  const expBits = maxExp + bias + 1;
  const signBit = 1 << (mant + Math.log2(expBits + 1));
  if (Number.isNaN(x)) return nanBits;
  const sign = x < 0 || Object.is(x, -0) ? signBit : 0;
  const a = Math.abs(x);
  const infBits = expBits << mant;
  // The largest finite value plus half its ulp rounds up (its mantissa is odd): infinity.
  const overflow = (2 - 2 ** -(mant + 1)) * 2 ** maxExp;
  if (a >= overflow) return sign | infBits;
  const minExp = 1 - bias;
  if (a < 2 ** minExp) {
    // Subnormal: a multiple of 2^(minExp - mant); a result of 2^mant is the smallest normal.
    return sign | roundHalfEven(a * 2 ** (mant - minExp));
  }
  const e = exponentOf(a);
  const m = roundHalfEven(a * 2 ** (mant - e)); // in [2^mant, 2^(mant+1)]; the top carries into e
  return sign | (((e + bias) << mant) + (m - 2 ** mant));
}

/**
 * The float16 bits nearest to `x` (ties to even); beyond 65504 (from 65520 up) gives infinity.
 * @example numberToHalf(1) // 0x3c00
 */
export function numberToHalf(x: number): number {
  return encode(x, 10, 15, 15, 0x7e00);
}

/**
 * The bfloat16 bits nearest to `x` (ties to even), as torch's round_to_nearest_even.
 * @example numberToBFloat16(1) // 0x3f80
 */
export function numberToBFloat16(x: number): number {
  return encode(x, 7, 127, 127, 0x7fc0);
}

/**
 * `x` rounded to the nearest float16 value, as `torch.tensor(x).half().float()`.
 * @example roundToHalf(0.1) // 0.0999755859375
 */
export function roundToHalf(x: number): number {
  return halfToNumber(numberToHalf(x));
}

/**
 * `x` rounded to the nearest bfloat16 value, as `torch.tensor(x).bfloat16().float()`.
 * @example roundToBFloat16(0.1) // 0.10009765625
 */
export function roundToBFloat16(x: number): number {
  return bfloat16ToNumber(numberToBFloat16(x));
}
