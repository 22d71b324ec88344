/**
 * @module backends/wasm/variant — picks the kernel build: plain simd128, or relaxed-simd (FMA).
 *
 * Deterministic mode always gets 'simd' (wasm's IEEE float ops give the same bits
 * in every runtime; relaxed_madd may or may not fuse). Otherwise 'relaxed' when the
 * engine validates a tiny module that uses `f32x4.relaxed_madd`.
 */
import type { KernelVariant } from '../../platform.ts';

/**
 * A tiny module that uses a relaxed-simd opcode:
 * `(func (result v128) (f32x4.relaxed_madd (v128.const 0) (v128.const 0) (v128.const 0)))`.
 * @example WebAssembly.validate(relaxedProbe()) // true where relaxed SIMD is on
 */
export function relaxedProbe(): Uint8Array<ArrayBuffer> {
  const zero16 = new Array<number>(16).fill(0);
  const constOp = [0xfd, 0x0c, ...zero16];
  const body = [0x00, ...constOp, ...constOp, ...constOp, 0xfd, 0x85, 0x02, 0x0b];
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    0x01,
    0x05,
    0x01,
    0x60,
    0x00,
    0x01,
    0x7b, // type: () -> v128
    0x03,
    0x02,
    0x01,
    0x00, // one function of type 0
    0x0a,
    body.length + 2,
    0x01,
    body.length,
    ...body,
  ]);
}

/**
 * True when this engine accepts relaxed-simd instructions.
 * @example supportsRelaxedSimd() // false on Node 20 without --experimental-wasm-relaxed-simd
 */
export function supportsRelaxedSimd(): boolean {
  try {
    return WebAssembly.validate(relaxedProbe());
  } catch {
    return false;
  }
}

/**
 * The kernel build to load.
 * @example selectKernelVariant({ deterministic: true }) // 'simd'
 */
export function selectKernelVariant(options: { deterministic: boolean }): KernelVariant {
  if (options.deterministic) return 'simd';
  return supportsRelaxedSimd() ? 'relaxed' : 'simd';
}
