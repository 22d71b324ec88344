/**
 * @module float16 — IEEE 754 half-precision bits to a number.
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
