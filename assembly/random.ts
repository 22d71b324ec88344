/**
 * @module random — Philox4x32-10 blocks in bulk, for runtime/random.ts's Generator.
 *
 * The same rounds as the TypeScript reference (`philox4x32` in runtime/random.ts), with
 * 64-bit multiplies for the high words. Integer-only, so the words are identical to the
 * TypeScript stream; the Generator uses this for large draws (model initialisation at
 * start-up, where the TypeScript loop runs before the JIT has warmed up).
 */

const M0: u64 = 0xd2511f53;
const M1: u64 = 0xcd9e8d57;
const W0: u32 = 0x9e3779b9;
const W1: u32 = 0xbb67ae85;

/**
 * Writes `blocks` Philox blocks (4 words each) to `out`, for counters
 * `[lo, hi, 0, 0]` starting at `offset` (a 64-bit block index split in two words) and
 * incrementing by one per block, under key `[k0, k1]`.
 */
export function philox_fill_u32(out: usize, blocks: i32, offsetLo: u32, offsetHi: u32, k0: u32, k1: u32): void {
  let counter: u64 = ((<u64>offsetHi) << 32) | <u64>offsetLo;
  for (let b = 0; b < blocks; b++) {
    let c0 = <u32>counter, c1 = <u32>(counter >> 32), c2: u32 = 0, c3: u32 = 0;
    let key0 = k0, key1 = k1;
    for (let round = 0; round < 10; round++) {
      const p0 = M0 * <u64>c0;
      const p2 = M1 * <u64>c2;
      const n0 = (<u32>(p2 >> 32)) ^ c1 ^ key0;
      const n2 = (<u32>(p0 >> 32)) ^ c3 ^ key1;
      c0 = n0; c1 = <u32>p2; c2 = n2; c3 = <u32>p0;
      key0 += W0;
      key1 += W1;
    }
    const at = out + (<usize>b << 4);
    store<u32>(at, c0);
    store<u32>(at, c1, 4);
    store<u32>(at, c2, 8);
    store<u32>(at, c3, 12);
    counter++;
  }
}
